import { loadTokensFile, parseTokens, type TokenEntry } from "@chronicle/registry";
import { UsageError } from "./command.js";

/**
 * Reads bearer tokens from a `--tokens FILE` (JSON array of `{name, role, token}`
 * or lines `name:role:token`) and an environment variable (`name:role:token,...`).
 * `what` names the server in the error ("registry", "console"). Never prints a token.
 */
export function readTokens(what: string, file: string | undefined, env: string | undefined): TokenEntry[] {
  const tokens: TokenEntry[] = [];
  try {
    if (file) tokens.push(...loadTokensFile(file));
    if (env) tokens.push(...parseTokens(env));
  } catch (err) {
    throw new UsageError(`cannot read ${what} tokens: ${(err as Error).message}`);
  }
  return tokens;
}
