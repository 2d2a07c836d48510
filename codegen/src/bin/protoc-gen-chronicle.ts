import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenChronicle } from "../plugin/protoc-gen-chronicle.js";

runNodeJs(protocGenChronicle);
