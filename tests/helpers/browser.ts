/**
 * A real headless Chromium for tests: Debian's `chromium`, driven by playwright-core (which
 * brings no browser of its own). CHROMIUM_PATH names another build. When none is installed
 * and we are root on a machine with apt-get, Debian's package is installed once; otherwise
 * the error says how to install it.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function findChromium(): string | undefined {
  const named = process.env.CHROMIUM_PATH;
  if (named) {
    if (!executable(named)) throw new Error(`CHROMIUM_PATH=${named} is not an executable file`);
    return named;
  }
  return CANDIDATES.find(executable);
}

/** apt-get, non-interactive, its output on our stderr; waits for another apt's lock. */
function aptGet(args: string[]): boolean {
  const run = spawnSync("apt-get", ["-y", "-q", "-o", "DPkg::Lock::Timeout=300", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 15 * 60_000,
  });
  return run.status === 0;
}

let installed: string | undefined;

function installChromium(): string {
  if (installed) return installed;
  const root = process.getuid?.() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!root || !hasApt) {
    throw new Error(
      "No Chromium found (looked at CHROMIUM_PATH, " + CANDIDATES.join(", ") + "). " +
        "Install Debian's package (sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.",
    );
  }
  process.stderr.write("tests/helpers/browser.ts: no Chromium found; installing Debian's chromium with apt-get\n");
  if (!aptGet(["install", "chromium"])) {
    // A fresh machine may have no package lists yet.
    if (!aptGet(["update"]) || !aptGet(["install", "chromium"])) throw new Error("apt-get install -y chromium failed (see its output above)");
  }
  installed = CANDIDATES.find(executable);
  if (!installed) throw new Error("apt-get installed chromium, but no binary appeared at " + CANDIDATES.join(" or "));
  return installed;
}

/** The path of the Chromium the tests use (installing it if needed and allowed). */
export function chromiumPath(): string {
  return findChromium() ?? installChromium();
}

/** A headless Chromium that talks to nothing but what the test opens. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
