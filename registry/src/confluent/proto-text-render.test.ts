import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { normalizeSchema } from "../compat/schema-set.js";
import { compileProtoText, type ProtoSource } from "./proto-text-compile.js";
import { renderProtoFile } from "./proto-text-render.js";

/** A file's normalised binary form: what a schema id hashes. */
function normalisedFile(set: FileDescriptorSet, name: string): Uint8Array {
  const normal = normalizeSchema(set);
  const file = normal.file.find((f) => f.name === name)!;
  return toBinary(FileDescriptorSetSchema, { ...normal, file: [file] });
}

/** Renders every non-well-known file of `set`, compiles the texts again and expects the same normalised descriptors. */
async function expectRoundTrip(set: FileDescriptorSet): Promise<void> {
  const own = set.file.filter((f) => !f.name.startsWith("google/protobuf/"));
  const texts: ProtoSource[] = own.map((f: FileDescriptorProto) => ({ name: f.name, text: renderProtoFile(f, set) }));
  for (const main of texts) {
    const again = fromBinary(FileDescriptorSetSchema, await compileProtoText(main, texts));
    expect({ file: main.name, text: main.text, same: Buffer.from(normalisedFile(again, main.name)).equals(normalisedFile(set, main.name)) }).toEqual({
      file: main.name,
      text: main.text,
      same: true,
    });
  }
}

const PROTO2 = `syntax = "proto2";
package acme.legacy.v1;
option java_package = "com.acme.legacy";
option optimize_for = SPEED;
message Account {
  required string id = 1;
  optional int32 level = 2 [default = 7];
  optional string motto = 3 [default = "say \\"hi\\"\\n\\ttoo"];
  optional bytes magic = 4 [default = "\\001\\377"];
  optional Kind kind = 5 [default = PREMIUM];
  optional double ratio = 6 [default = -inf];
  repeated int64 history = 7 [packed = true];
  optional group Extra = 8 {
    optional string note = 1;
  }
  enum Kind {
    option allow_alias = true;
    BASIC = 0;
    PREMIUM = 1;
    GOLD = 1 [deprecated = true];
    reserved 5 to 9, 20;
    reserved "OLD";
  }
  extensions 100 to 199;
  extensions 1000 to max;
  reserved 30 to 39, 41;
  reserved "gone";
  optional bool closed = 9 [deprecated = true, json_name = "isClosed"];
}
extend Account {
  optional string nickname = 100;
}
message Holder {
  extend Account {
    optional int32 holder_rank = 101;
  }
  optional Account account = 1;
}
`;

const PROTO3 = `syntax = "proto3";
package acme.orders.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/struct.proto";
option go_package = "example.com/acme/orders/v1;ordersv1";
message OrderPlaced {
  message Line {
    string sku = 1;
    uint32 quantity = 2;
  }
  string order_id = 1;
  map<string, Line> lines_by_sku = 2;
  repeated Line lines = 3;
  optional string coupon = 4;
  oneof payment {
    string card_token = 5;
    Wallet wallet = 6;
  }
  google.protobuf.Timestamp placed_at = 7;
  map<int32, string> notes = 8;
  message Wallet {
    string provider = 1;
  }
  Status status = 9;
  google.protobuf.Struct attributes = 10;
  sint64 delta = 11;
  fixed32 f32 = 12;
  sfixed64 sf64 = 13;
  float weight = 14;
  bytes raw = 15;
  optional int32 priority = 16;
  oneof contact {
    string email = 17;
    string phone = 18;
  }
  enum Status {
    STATUS_UNSPECIFIED = 0;
    STATUS_OPEN = 1;
  }
  reserved 100;
}
enum Channel {
  CHANNEL_UNSPECIFIED = 0;
  CHANNEL_WEB = 1;
}
service Orders {
  option deprecated = true;
  rpc Place(OrderPlaced) returns (OrderPlaced);
  rpc Watch(stream OrderPlaced) returns (stream OrderPlaced) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
}
`;

const EDITIONS = `edition = "2023";
package acme.edition.v1;
message Thing {
  string name = 1;
  repeated int32 values = 2;
}
`;

describe("rendering stored schemas as .proto text", () => {
  it("renders proto2 (defaults, groups, extensions, required, aliases, reserved) so that it compiles back to the same descriptor", async () => {
    await expectRoundTrip(fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: "acme/legacy/v1/account.proto", text: PROTO2 }, [])));
  });

  it("renders proto3 (maps declared after nested types, oneofs, optional, well-known types, services) back to the same descriptor", async () => {
    await expectRoundTrip(fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: "acme/orders/v1/orders.proto", text: PROTO3 }, [])));
  });

  it("renders editions files back to the same descriptor", async () => {
    await expectRoundTrip(fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: "acme/edition/v1/thing.proto", text: EDITIONS }, [])));
  });

  it("renders every file of this repository's buf workspace back to the same descriptor", async () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const buf = createRequire(import.meta.url).resolve("@bufbuild/buf/bin/buf");
    const image = execFileSync(process.execPath, [buf, "build", "--as-file-descriptor-set", "-o", "-#format=binpb"], { cwd: root, maxBuffer: 64 << 20 });
    const set = fromBinary(FileDescriptorSetSchema, image);
    expect(set.file.length).toBeGreaterThan(5);
    await expectRoundTrip(set);
  });
});
