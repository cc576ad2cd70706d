/** Where client commands (`enqueue`, `get`, `work`, ...) find the server. Pure, like all config. */
import { ConfigError } from "./config-error.ts";

export const DEFAULT_SERVER_URL = "http://127.0.0.1:7070";

export interface ClientFlags {
  server?: string | undefined;
  token?: string | undefined;
}

export interface ClientConfig {
  readonly serverUrl: string;
  readonly token: string | undefined;
}

export function resolveClientConfig({
  flags,
  env,
}: {
  flags: ClientFlags;
  env: Readonly<Record<string, string | undefined>>;
}): ClientConfig {
  const serverUrl = flags.server ?? (env.TQD_SERVER || DEFAULT_SERVER_URL);
  let parsed: URL | undefined;
  try {
    parsed = new URL(serverUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new ConfigError("--server", `invalid --server (TQD_SERVER) "${serverUrl}": expected a URL such as ${DEFAULT_SERVER_URL}`);
  }
  const token = flags.token ?? (env.TQD_TOKEN || undefined);
  return Object.freeze({ serverUrl: serverUrl.replace(/\/+$/, ""), token });
}
