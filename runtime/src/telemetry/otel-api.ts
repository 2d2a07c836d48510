import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";

const requireFromHere = createRequire(import.meta.url);

function loadOtelApi(): typeof OtelApi | undefined {
  try {
    return requireFromHere("@opentelemetry/api") as typeof OtelApi;
  } catch {
    return undefined;
  }
}

/**
 * `@opentelemetry/api`, an optional peer dependency: the application's own
 * copy when it installed one, else undefined (and Chronicle records no
 * telemetry). It is loaded once, synchronously, through `require`; every
 * copy of the API shares its global registrations (tracer and meter
 * providers, context manager, propagator) with the others, so the
 * application's SDK is seen whichever build the application imports.
 */
export const otel: typeof OtelApi | undefined = loadOtelApi();

/** Name and version of the instrumentation scope of Chronicle's tracer and meter (this package's). */
export const INSTRUMENTATION_SCOPE = requireFromHere("../../package.json") as { readonly name: string; readonly version: string };
