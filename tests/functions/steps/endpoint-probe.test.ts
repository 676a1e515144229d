/**
 * probeEndpoint against a real local HTTPS server: the probe connects to the load balancer's
 * name but verifies the certificate against the shop's name (SNI and Host), as a browser
 * reaching the shop would.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, globalAgent, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeEndpoint } from "../../../functions/shared/endpoint-probe";

let server: Server;
let port = 0;
let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: "{}" };
const seen: { host?: string; servername?: string; path?: string }[] = [];
const previousCa = globalAgent.options.ca;

beforeAll(async () => {
  // A throwaway self-signed certificate for the shop's name, made for this run only.
  const dir = mkdtempSync(join(tmpdir(), "probe-cert-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-subj",
      "/CN=shop.example.com",
      "-addext",
      "subjectAltName=DNS:shop.example.com",
    ],
    { stdio: "ignore" },
  );
  const cert = readFileSync(join(dir, "cert.pem"));
  const key = readFileSync(join(dir, "key.pem"));
  rmSync(dir, { recursive: true, force: true });
  globalAgent.options.ca = cert;
  server = createServer({ cert, key }, (request, response) => {
    seen.push({
      host: request.headers.host,
      servername: (request.socket as { servername?: string }).servername,
      path: request.url,
    });
    setTimeout(() => {
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(answer.body);
    }, answer.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  globalAgent.options.ca = previousCa;
  await new Promise((resolve) => server.close(resolve));
});

const probe = (serverName = "shop.example.com", timeoutMs = 2000) =>
  probeEndpoint({ host: "127.0.0.1", serverName, path: `/health`, timeoutMs, port });

describe("probeEndpoint", () => {
  it("reads the app's writer view from a 200, sending the shop's name as SNI and Host", async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        status: "ok",
        writerRegion: "us-west-2",
        writer: "here",
        writable: true,
      }),
    };
    seen.length = 0;

    await expect(probe()).resolves.toEqual({
      healthy: true,
      statusCode: 200,
      writable: true,
      writerRegion: "us-west-2",
    });
    expect(seen).toEqual([
      { host: "shop.example.com", servername: "shop.example.com", path: "/health" },
    ]);
  });

  it("is unhealthy on a 503, with the status", async () => {
    answer = { status: 503, body: "" };
    await expect(probe()).resolves.toMatchObject({
      healthy: false,
      statusCode: 503,
      reason: "HTTP 503",
    });
  });

  it("refuses a certificate that is not the shop's", async () => {
    answer = { status: 200, body: "{}" };
    const reading = await probe("other.example.com");
    expect(reading.healthy).toBe(false);
    expect(reading.reason).toMatch(/altnames|certificate/i);
  });

  it("gives up after its timeout", async () => {
    answer = { status: 200, body: "{}", delayMs: 1500 };
    await expect(probe("shop.example.com", 200)).resolves.toMatchObject({
      healthy: false,
      reason: "timeout after 200 ms",
    });
  });
});
