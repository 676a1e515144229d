import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webAppUserData } from "../../src/constructs/web-app-user-data";

const SCRIPT = webAppUserData({
  role: "secondary",
  parameterPath: "/shop/test/",
  port: 8080,
  healthCheckPath: "/health",
});

/** The Python app exactly as the user data writes it to /opt/shopsmart/web.py. */
function webAppSourceOf(script: string): string {
  const opening = "cat > /opt/shopsmart/web.py <<'PYTHON'\n";
  const start = script.indexOf(opening) + opening.length;
  return script.slice(start, script.indexOf("PYTHON\nchmod", start));
}

const SOURCE = webAppSourceOf(SCRIPT);

/** A top-level Python function, up to the next top-level statement. */
function pythonFunction(name: string): string {
  const start = SOURCE.indexOf(`\ndef ${name}(`) + 1;
  const length = SOURCE.slice(start).search(/\n\S/);
  return SOURCE.slice(start, length === -1 ? undefined : start + length);
}

const GLOBAL = "shop-test.global-abc123.global.rds.amazonaws.com";
const EAST_CLUSTER = "shop-test-primary.cluster-c7tj4example.us-east-2.rds.amazonaws.com";
const WEST_CLUSTER = "shop-test-secondary.cluster-c7tj4example.us-west-2.rds.amazonaws.com";

describe("web app user data", () => {
  it("re-reads the writer endpoint parameter every 30 s in a loop of its own", () => {
    expect(SOURCE).toContain("WRITER_LOOKUP_SECONDS = 30\n");
    const loop = pythonFunction("follow_writer");
    expect(loop).toContain("while True:");
    expect(loop).toContain('writer_endpoint(state["region"])');
    expect(loop).toContain("time.sleep(WRITER_LOOKUP_SECONDS)");
    expect(pythonFunction("main")).toContain("threading.Thread(target=follow_writer");
  });

  it("keeps probing the database over TCP every 5 s", () => {
    expect(SOURCE).toContain("PROBE_INTERVAL_SECONDS = 5\n");
    const probe = pythonFunction("probe_database");
    expect(probe).toContain("can_connect(endpoint)");
    expect(probe).toContain("time.sleep(PROBE_INTERVAL_SECONDS)");
  });

  it("starts the app only when run as a script, so it imports without side effects", () => {
    expect(SOURCE.endsWith('\nif __name__ == "__main__":\n    main()\n')).toBe(true);
  });
});

const python3 = spawnSync("python3", ["--version"]).status === 0;

describe.skipIf(!python3)(
  python3
    ? "the embedded web app, run with python3"
    : "the embedded web app (skipped: python3 is not on PATH)",
  () => {
    let directory = "";

    beforeAll(() => {
      directory = mkdtempSync(join(tmpdir(), "shopsmart-web-app-"));
      writeFileSync(join(directory, "web.py"), SOURCE);
    });

    afterAll(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    /**
     * Imports web.py in python3 with the environment the systemd unit sets, runs `code`, and
     * returns the JSON of its `result` variable and what the app logged.
     */
    function runPython(code: string): { result: unknown; stderr: string } {
      const program = [
        "import json, socket, sys, threading",
        `sys.path.insert(0, ${JSON.stringify(directory)})`,
        "import web",
        "class StopLoop(Exception):",
        "    pass",
        "def resolver(table):",
        "    calls = []",
        "    def resolve(name):",
        "        calls.append(name)",
        "        if name not in table:",
        '            raise socket.gaierror(-2, "Name or service not known")',
        "        return table[name]",
        "    resolve.calls = calls",
        "    return resolve",
        code,
        "print(json.dumps(result))",
      ].join("\n");
      const run = spawnSync("python3", ["-c", program], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          PYTHONDONTWRITEBYTECODE: "1",
          SHOPSMART_ROLE: "secondary",
          SHOPSMART_PARAMETER_PATH: "/shop/test/",
          SHOPSMART_PORT: "8080",
          SHOPSMART_HEALTH_PATH: "/health",
        },
      });
      if (run.status !== 0) {
        throw new Error(`python3 exited with ${run.status}:\n${run.stderr}`);
      }
      return { result: JSON.parse(run.stdout), stderr: run.stderr };
    }

    it("parses as Python 3.9, the system Python of Amazon Linux 2023", () => {
      const { result } = runPython(
        [
          "import ast",
          `ast.parse(open(${JSON.stringify(join(directory, "web.py"))}).read(), feature_version=(3, 9))`,
          "result = True",
        ].join("\n"),
      );
      expect(result).toBe(true);
    });

    it("imports without starting a thread, a lookup or a server", () => {
      const { result, stderr } = runPython(
        'result = [threading.active_count(), web.state["endpoint"], web.state["writerRegion"]]',
      );
      expect(result).toEqual([1, null, "unknown"]);
      expect(stderr).toBe("");
    });

    describe("writer_region_of", () => {
      it("takes the region from a regional cluster endpoint without resolving it", () => {
        const { result } = runPython(
          [
            "resolve = resolver({})",
            `result = [web.writer_region_of(${JSON.stringify(WEST_CLUSTER)}, resolve), resolve.calls]`,
          ].join("\n"),
        );
        expect(result).toEqual(["us-west-2", []]);
      });

      it("reads a regional name whatever its case and with a trailing dot", () => {
        const { result } = runPython(
          `result = web.writer_region_of(${JSON.stringify(`${WEST_CLUSTER.toUpperCase()}.`)}, resolver({}))`,
        );
        expect(result).toBe("us-west-2");
      });

      it("finds the region of the global endpoint among the names DNS resolves it through", () => {
        const { result } = runPython(
          [
            "resolve = resolver({",
            `    ${JSON.stringify(GLOBAL)}: (`,
            '        "ec2-3-15-0-1.us-east-2.compute.amazonaws.com",',
            `        [${JSON.stringify(GLOBAL)}, ${JSON.stringify(EAST_CLUSTER)}],`,
            '        ["10.0.0.1"],',
            "    ),",
            "})",
            `result = [web.writer_region_of(${JSON.stringify(GLOBAL)}, resolve), resolve.calls]`,
          ].join("\n"),
        );
        expect(result).toEqual(["us-east-2", [GLOBAL]]);
      });

      it("finds the region when the canonical name is the regional one", () => {
        const { result } = runPython(
          [
            "resolve = resolver({",
            `    ${JSON.stringify(GLOBAL)}: (${JSON.stringify(EAST_CLUSTER)}, [${JSON.stringify(GLOBAL)}], ["10.0.0.1"]),`,
            "})",
            `result = web.writer_region_of(${JSON.stringify(GLOBAL)}, resolve)`,
          ].join("\n"),
        );
        expect(result).toBe("us-east-2");
      });

      it("reports unknown when DNS names no region (an address record, not a CNAME)", () => {
        const { result } = runPython(
          [
            `resolve = resolver({${JSON.stringify(GLOBAL)}: (${JSON.stringify(GLOBAL)}, [], ["10.0.0.1"])})`,
            `result = web.writer_region_of(${JSON.stringify(GLOBAL)}, resolve)`,
          ].join("\n"),
        );
        expect(result).toBe("unknown");
      });

      it("reports unknown when the names resolved through are in two regions", () => {
        const { result } = runPython(
          [
            "resolve = resolver({",
            `    ${JSON.stringify(GLOBAL)}: (${JSON.stringify(EAST_CLUSTER)}, [${JSON.stringify(WEST_CLUSTER)}], ["10.0.0.1"]),`,
            "})",
            `result = web.writer_region_of(${JSON.stringify(GLOBAL)}, resolve)`,
          ].join("\n"),
        );
        expect(result).toBe("unknown");
      });

      it("reports unknown, and logs why, when the name does not resolve", () => {
        const { result, stderr } = runPython(
          `result = web.writer_region_of(${JSON.stringify(GLOBAL)}, resolver({}))`,
        );
        expect(result).toBe("unknown");
        expect(stderr).toBe(`cannot resolve ${GLOBAL}: [Errno -2] Name or service not known\n`);
      });
    });

    it("follows the parameter every 30 s: picks up a change and keeps the last value when a read fails", () => {
      const { result, stderr } = runPython(
        [
          'web.state["region"] = "us-west-2"',
          `reads = [${JSON.stringify(GLOBAL)}, None, ${JSON.stringify(WEST_CLUSTER)}]`,
          "read_regions = []",
          "def fake_writer_endpoint(region):",
          "    read_regions.append(region)",
          "    return reads.pop(0)",
          "web.writer_endpoint = fake_writer_endpoint",
          `web.socket.gethostbyname_ex = resolver({${JSON.stringify(GLOBAL)}: (${JSON.stringify(EAST_CLUSTER)}, [${JSON.stringify(GLOBAL)}], ["10.0.0.1"])})`,
          "seen = []",
          "def fake_sleep(seconds):",
          '    seen.append([seconds, web.state["endpoint"], web.state["writerRegion"]])',
          "    if not reads:",
          "        raise StopLoop()",
          "web.time.sleep = fake_sleep",
          "try:",
          "    web.follow_writer()",
          "except StopLoop:",
          "    pass",
          "result = [read_regions, seen]",
        ].join("\n"),
      );
      expect(result).toEqual([
        ["us-west-2", "us-west-2", "us-west-2"],
        [
          [30, GLOBAL, "us-east-2"],
          [30, GLOBAL, "us-east-2"],
          [30, WEST_CLUSTER, "us-west-2"],
        ],
      ]);
      expect(stderr).toBe(
        [
          `writer endpoint: ${GLOBAL}`,
          "writer region: us-east-2",
          `keeping the last writer endpoint read: ${GLOBAL}`,
          `writer endpoint: ${WEST_CLUSTER}`,
          "writer region: us-west-2",
          "",
        ].join("\n"),
      );
    });

    it("probes every 5 s whichever endpoint was read last", () => {
      const { result } = runPython(
        [
          `web.state["endpoint"] = ${JSON.stringify(GLOBAL)}`,
          "probed = []",
          "def fake_can_connect(endpoint):",
          "    probed.append(endpoint)",
          `    return endpoint != ${JSON.stringify(GLOBAL)}`,
          "web.can_connect = fake_can_connect",
          "seen = []",
          "def fake_sleep(seconds):",
          '    seen.append([seconds, web.state["database"]])',
          `    web.state["endpoint"] = ${JSON.stringify(WEST_CLUSTER)}`,
          "    if len(seen) == 2:",
          "        raise StopLoop()",
          "web.time.sleep = fake_sleep",
          "try:",
          "    web.probe_database()",
          "except StopLoop:",
          "    pass",
          "result = [probed, seen]",
        ].join("\n"),
      );
      expect(result).toEqual([
        [GLOBAL, WEST_CLUSTER],
        [
          [5, "unreachable"],
          [5, "reachable"],
        ],
      ]);
    });

    it("answers the health path 200 with the writer fields from the cached state, looking nothing up", () => {
      const { result } = runPython(
        [
          "import urllib.request",
          "from http.server import ThreadingHTTPServer",
          "def no_lookup(*args, **kwargs):",
          '    raise AssertionError("looked something up in the request path")',
          "web.socket.gethostbyname_ex = no_lookup",
          "web.subprocess.run = no_lookup",
          "web.can_connect = no_lookup",
          'server = ThreadingHTTPServer(("127.0.0.1", 0), web.Handler)',
          "threading.Thread(target=server.serve_forever, daemon=True).start()",
          'web.state["region"] = "us-west-2"',
          "cases = [",
          '    ("us-west-2", "reachable"),',
          '    ("us-west-2", "unreachable"),',
          '    ("us-east-2", "reachable"),',
          '    ("unknown", "reachable"),',
          '    ("unknown", "unreachable"),',
          "]",
          "result = []",
          "for writer_region, database in cases:",
          '    web.state["writerRegion"] = writer_region',
          '    web.state["database"] = database',
          '    url = "http://127.0.0.1:%d/health" % server.server_address[1]',
          "    with urllib.request.urlopen(url, timeout=5) as response:",
          "        result.append([response.status, json.loads(response.read())])",
          "server.shutdown()",
        ].join("\n"),
      );
      const body = (writerRegion: string, database: string, writer: string, writable: boolean) => [
        200,
        {
          status: "ok",
          region: "us-west-2",
          role: "secondary",
          database,
          writerRegion,
          writer,
          writable,
        },
      ];
      expect(result).toEqual([
        body("us-west-2", "reachable", "here", true),
        body("us-west-2", "unreachable", "here", false),
        body("us-east-2", "reachable", "elsewhere", false),
        body("unknown", "reachable", "unknown", false),
        body("unknown", "unreachable", "unknown", false),
      ]);
    });
  },
);
