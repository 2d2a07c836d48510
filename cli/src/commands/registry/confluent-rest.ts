/** An error answered by a Confluent-compatible registry: its HTTP status and Confluent's `error_code`. */
export class ConfluentRestError extends Error {
  override name = "ConfluentRestError";
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Calls of Confluent's REST API against one registry. */
export interface ConfluentRest {
  readonly url: string;
  get<T>(path: string): Promise<T>;
  send<T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T>;
}

/**
 * A client of Confluent's REST API at `url` with an `Authorization` header
 * value (or none). Answers that are not 2xx throw a
 * {@link ConfluentRestError}; a registry that cannot be reached throws with
 * the URL and the cause.
 */
export function confluentRest(url: string, authorization: string | undefined): ConfluentRest {
  const base = url.replace(/\/+$/, "");
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: {
          accept: "application/vnd.schemaregistry.v1+json, application/json",
          ...(body !== undefined ? { "content-type": "application/vnd.schemaregistry.v1+json" } : {}),
          ...(authorization ? { authorization } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ConfluentRestError(
        0,
        0,
        `cannot reach ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { error_code?: unknown; message?: unknown };
      throw new ConfluentRestError(
        res.status,
        typeof e.error_code === "number" ? e.error_code : res.status,
        typeof e.message === "string" ? e.message : `HTTP ${res.status}`,
      );
    }
    return parsed as T;
  };
  return { url: base, get: (path) => call("GET", path), send: (method, path, body) => call(method, path, body) };
}
