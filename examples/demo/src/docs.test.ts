// Checks the code blocks of the docs pages written with the examples: each
// block marked `<!-- quoted from FILE -->` must appear in FILE line for line
// (so the docs cannot drift from code that runs), and the cluster page's
// block runs here.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connect, defineStream, ensureStream } from "@chronicle/runtime";
import { startLocalCluster } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { ordersStream } from "../../orders/src/gen/shop/orders/v1/orders_chronicle.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const PAGES = ["docs/events-as-facts.md", "docs/cluster.md"];

/** Blocks preceded by a quote marker: [file, block lines]. */
function quotedBlocks(markdown: string): { file: string; lines: string[] }[] {
  const out: { file: string; lines: string[] }[] = [];
  const re = /<!-- quoted from (\S+) -->\n```\w*\n([\s\S]*?)\n```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ file: m[1]!, lines: m[2]!.split("\n") });
  return out;
}

function contains(haystack: string[], needle: string[]): boolean {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((l, j) => haystack[i + j] === l)) return true;
  return false;
}

describe("docs pages quote code that exists", () => {
  for (const page of PAGES) {
    it(page, () => {
      const blocks = quotedBlocks(readFileSync(`${root}${page}`, "utf8"));
      expect(blocks.length).toBeGreaterThan(0);
      for (const b of blocks) {
        const file = readFileSync(`${root}${b.file}`, "utf8").split("\n");
        expect(contains(file, b.lines), `${page}: block quoted from ${b.file} no longer matches it:\n${b.lines.join("\n")}`).toBe(true);
      }
    });
  }
});

describe("docs/cluster.md", () => {
  it("runs the 3-node cluster block: a stream with 3 replicas on servers with sync_interval: always", { timeout: 60_000 }, async () => {
    await using cluster = await startLocalCluster({ nodes: 3, syncAlways: true });
    await using conn = await connect({ servers: cluster.urls });
    const replicated = defineStream({ ...ordersStream.settings, replicas: 3 }, ordersStream.events);
    await ensureStream(conn, replicated);
    const info = await conn.jsm.streams.info("orders");
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
  });
});
