import type { RegionRole } from "../../functions/shared/region-roles";
import { WRITER_ENDPOINT_PARAMETER } from "../../functions/shared/resource-names";

/** What the web app on each instance is told at build time. */
export interface WebAppUserDataOptions {
  /** Role of the region the instance runs in; reported by the health endpoint. */
  readonly role: RegionRole;
  /** SSM path the app reads its settings from, starting and ending with "/". */
  readonly parameterPath: string;
  /** Port the app listens on (the target group's port). */
  readonly port: number;
  /** Path of the health endpoint, e.g. "/health". */
  readonly healthCheckPath: string;
}

/** Port the database listens on when the writer endpoint parameter names none. */
const DATABASE_PORT = 5432;

/**
 * The web app. Python 3.9 (the system Python of Amazon Linux 2023), standard library only; it
 * shells out to the AWS CLI that AL2023 ships for the SSM read, repeated every 30 s.
 */
const WEB_APP_SOURCE = `"""ShopSmart web tier: answers health checks with this instance's region and role, whether it
can reach the database writer, and in which region that writer is."""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = os.environ["SHOPSMART_ROLE"]
PARAMETER_PATH = os.environ["SHOPSMART_PARAMETER_PATH"]
PORT = int(os.environ["SHOPSMART_PORT"])
HEALTH_PATH = os.environ["SHOPSMART_HEALTH_PATH"]
METADATA_URL = "http://169.254.169.254/latest"
WRITER_ENDPOINT_PARAMETER = PARAMETER_PATH + "${WRITER_ENDPOINT_PARAMETER}"
DATABASE_PORT = ${DATABASE_PORT}
CONNECT_TIMEOUT_SECONDS = 1
PROBE_INTERVAL_SECONDS = 5
WRITER_LOOKUP_SECONDS = 30
UNKNOWN = "unknown"
# A regional RDS name ends in <region>.rds.amazonaws.com, like the cluster endpoint
# mydbcluster.cluster-c7tj4example.us-east-1.rds.amazonaws.com
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Endpoints.Cluster.html);
# the global writer endpoint ends in .global.rds.amazonaws.com, which names no region.
REGIONAL_RDS_NAME = re.compile(r"[.]([a-z]{2}(?:-[a-z]+)+-[0-9]+)[.]rds[.]amazonaws[.]com[.]?$")

# Written by the background threads, read by the request handler; each value is replaced whole.
state = {"region": "", "endpoint": None, "writerRegion": UNKNOWN, "database": "unreachable"}


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def instance_region():
    """The instance's region from the metadata service, with an IMDSv2 session token."""
    while True:
        try:
            token_request = urllib.request.Request(
                METADATA_URL + "/api/token",
                method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
            )
            with urllib.request.urlopen(token_request, timeout=2) as response:
                token = response.read().decode()
            region_request = urllib.request.Request(
                METADATA_URL + "/meta-data/placement/region",
                headers={"X-aws-ec2-metadata-token": token},
            )
            with urllib.request.urlopen(region_request, timeout=2) as response:
                return response.read().decode().strip()
        except OSError as error:
            log("instance metadata not available yet:", error)
            time.sleep(2)


def writer_endpoint(region):
    """The writer endpoint from SSM, or None while the parameter cannot be read."""
    command = [
        "aws", "ssm", "get-parameter",
        "--region", region,
        "--name", WRITER_ENDPOINT_PARAMETER,
        "--query", "Parameter.Value",
        "--output", "text",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    except subprocess.CalledProcessError as error:
        log("cannot read", WRITER_ENDPOINT_PARAMETER + ":", error.stderr.strip())
        return None
    except (OSError, subprocess.TimeoutExpired) as error:
        log("cannot read", WRITER_ENDPOINT_PARAMETER + ":", error)
        return None
    return result.stdout.strip() or None


def host_and_port(endpoint):
    """The host and port of an endpoint written "host" or "host:port"."""
    host, separator, port = endpoint.rpartition(":")
    if not separator:
        return endpoint, str(DATABASE_PORT)
    return host, port


def regional_rds_region(name):
    """The region a regional RDS DNS name carries, or None for any other name."""
    match = REGIONAL_RDS_NAME.search(name.lower())
    return match.group(1) if match else None


def writer_region_of(name, resolve):
    """The region of the writer behind the endpoint host name, or "unknown". No AWS API call.

    A regional endpoint (the parameter's value after a detach-and-promote) names its region. The
    global writer endpoint does not: AWS documents that it is "automatically updated by Aurora to
    route requests to the current writer instance of the primary DB cluster"
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-connecting.html)
    but not how: the DNS record type is undocumented. So this only looks for a regional RDS name
    among the canonical name and aliases that resolve (socket.gethostbyname_ex) reports, as a
    CNAME to the primary's endpoints would give; anything else, or names of two regions, is
    "unknown" rather than a guess.
    """
    region = regional_rds_region(name)
    if region is not None:
        return region
    try:
        canonical_name, aliases, _addresses = resolve(name)
    except (OSError, UnicodeError) as error:
        log("cannot resolve", name + ":", error)
        return UNKNOWN
    regions = {regional_rds_region(candidate) for candidate in [canonical_name, *aliases]}
    regions.discard(None)
    return regions.pop() if len(regions) == 1 else UNKNOWN


def writer_fields(writer_region, region, database):
    """The health body's writer fields: the writer's region, whether that is this instance's
    region, and whether this instance can write (writer here and database reachable)."""
    if writer_region == UNKNOWN:
        writer = UNKNOWN
    elif writer_region == region:
        writer = "here"
    else:
        writer = "elsewhere"
    return {
        "writerRegion": writer_region,
        "writer": writer,
        "writable": writer == "here" and database == "reachable",
    }


def refresh_writer(read_endpoint, resolve):
    """One lookup: re-reads the writer endpoint, keeping the last good value when the read
    fails, and works out the writer's region from it."""
    endpoint = read_endpoint()
    if endpoint is None:
        if state["endpoint"] is not None:
            log("keeping the last writer endpoint read:", state["endpoint"])
    elif endpoint != state["endpoint"]:
        log("writer endpoint:", endpoint)
        state["endpoint"] = endpoint
    writer_region = UNKNOWN
    if state["endpoint"] is not None:
        writer_region = writer_region_of(host_and_port(state["endpoint"])[0], resolve)
    if writer_region != state["writerRegion"]:
        log("writer region:", writer_region)
    state["writerRegion"] = writer_region


def follow_writer():
    """Keeps state["endpoint"] and state["writerRegion"] current in the background. Both are
    looked up again every WRITER_LOOKUP_SECONDS, not once at boot: the failover automation
    rewrites the parameter after a detach-and-promote, and the global endpoint follows the
    writer across regions. Never in the request path: the AWS CLI and DNS can be slow."""
    while True:
        refresh_writer(lambda: writer_endpoint(state["region"]), socket.gethostbyname_ex)
        time.sleep(WRITER_LOOKUP_SECONDS)


def can_connect(endpoint):
    """True when a TCP connection to the endpoint ("host" or "host:port") opens in time."""
    host, port = host_and_port(endpoint)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except (OSError, ValueError):
        return False


def probe_database():
    """Keeps state["database"] current in the background, so a health check never waits on
    the database: a slow answer would count as a failed check. Each probe takes the endpoint
    follow_writer last read, so a new endpoint is probed within PROBE_INTERVAL_SECONDS."""
    while True:
        endpoint = state["endpoint"]
        reachable = endpoint is not None and can_connect(endpoint)
        state["database"] = "reachable" if reachable else "unreachable"
        time.sleep(PROBE_INTERVAL_SECONDS)


class Handler(BaseHTTPRequestHandler):
    server_version = "shopsmart-web"
    sys_version = ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == HEALTH_PATH:
            # 200 whatever the database state: a failing-over database must not take healthy
            # web instances out of service; the body tells the operator what is wrong. Only
            # cached values here: the lookups run in follow_writer and probe_database.
            self.reply(200, {
                "status": "ok",
                "region": state["region"],
                "role": ROLE,
                "database": state["database"],
                **writer_fields(state["writerRegion"], state["region"], state["database"]),
            })
        elif path == "/":
            self.reply(200, {"service": "shopsmart", "region": state["region"], "role": ROLE})
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        # The load balancer and Route 53 check every few seconds; logging those would bury
        # everything else in the journal.
        if not self.path.startswith(HEALTH_PATH):
            super().log_message(format, *args)


def main():
    state["region"] = instance_region()
    threading.Thread(target=follow_writer, daemon=True).start()
    threading.Thread(target=probe_database, daemon=True).start()
    server = ThreadingHTTPServer(("", PORT), Handler)
    log("listening on port", PORT, "as", ROLE, "in", state["region"])
    server.serve_forever()


if __name__ == "__main__":
    main()
`;

/**
 * The user-data script of a web instance: installs a small Python web app (standard library
 * only, nothing downloaded) as a systemd service. The app answers the health path with
 * `{status, region, role, database, writerRegion, writer, writable}`: region from the instance
 * metadata service (IMDSv2), role baked in here, whether a TCP connection to the database writer
 * succeeds (every 5 s), the writer's region ("unknown" when it cannot tell), whether that is
 * "here" or "elsewhere", and whether this instance can write (writer here and reachable). The
 * app re-reads the writer endpoint parameter every 30 s, so a failover that rewrites it reaches
 * running instances without a restart.
 *
 * The health endpoint answers 200 even when the database is unreachable: during an Aurora
 * failover the load balancer must not replace healthy web instances, and Route 53 must not fail
 * DNS over because of the database alone.
 *
 * Callers must pass values made of path-safe characters only (the Compute construct validates
 * them): they are written verbatim into a systemd unit.
 */
export function webAppUserData(options: WebAppUserDataOptions): string {
  return `#!/bin/bash
# ShopSmart web tier bootstrap. cloud-init runs this once, as root, on first boot.
set -euo pipefail

install -d -m 0755 /opt/shopsmart
cat > /opt/shopsmart/web.py <<'PYTHON'
${WEB_APP_SOURCE}PYTHON
chmod 0644 /opt/shopsmart/web.py

cat > /etc/systemd/system/shopsmart-web.service <<'UNIT'
[Unit]
Description=ShopSmart web app
Wants=network-online.target
After=network-online.target

[Service]
Environment=SHOPSMART_ROLE=${options.role}
Environment=SHOPSMART_PARAMETER_PATH=${options.parameterPath}
Environment=SHOPSMART_PORT=${options.port}
Environment=SHOPSMART_HEALTH_PATH=${options.healthCheckPath}
Environment=HOME=/tmp
ExecStart=/usr/bin/python3 /opt/shopsmart/web.py
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now shopsmart-web.service
`;
}
