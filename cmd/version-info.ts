/**
 * The version and commit of this build. `scripts/build.ts` defines TQD_BUILD_VERSION and
 * TQD_BUILD_COMMIT when compiling; running from source reports package.json's version and "dev".
 */
import packageJson from "../package.json" with { type: "json" };

declare const TQD_BUILD_VERSION: string | undefined;
declare const TQD_BUILD_COMMIT: string | undefined;

export function buildVersion(): string {
  return typeof TQD_BUILD_VERSION === "string" ? TQD_BUILD_VERSION : packageJson.version;
}

export function buildCommit(): string {
  return typeof TQD_BUILD_COMMIT === "string" ? TQD_BUILD_COMMIT : "dev";
}

export function versionLine(): string {
  return `tqd ${buildVersion()} (commit ${buildCommit()})`;
}
