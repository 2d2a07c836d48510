import { createRequire } from "node:module";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";

const require = createRequire(import.meta.url);

// The drivers are optional peer dependencies: a service installs only the one
// it uses, so each is loaded when a database of its kind is opened.
/** Loads `pg` or `better-sqlite3`, or says how to install it. @private */
export function loadDriver<T>(name: "pg" | "better-sqlite3", forWhat: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    throw new ChronicleError(
      ErrorCode.InvalidArgument,
      `opening ${forWhat} needs the "${name}" package: npm install ${name}${name === "better-sqlite3" ? "@12" : ""}`,
      {
        cause: err,
        context: { option: "db" },
      },
    );
  }
}
