import type { RegionRole } from "../config/schema";

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

/** Name, relative to the parameter path, of the SSM parameter holding the writer endpoint. */
export const WRITER_ENDPOINT_PARAMETER = "db/writer-endpoint";

/** Port the database listens on when the writer endpoint parameter names none. */
const DATABASE_PORT = 5432;

/**
 * The web app. Python 3.9 (the system Python of Amazon Linux 2023), standard library only; it
 * shells out to the AWS CLI that AL2023 ships for the one SSM read.
 */
const WEB_APP_SOURCE = `"""ShopSmart web tier: answers health checks with this instance's region and role, and
whether it can reach the database writer."""
import json
import os
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
LOOKUP_RETRY_SECONDS = 30

state = {"region": "", "database": "unreachable"}


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


def can_connect(endpoint):
    """True when a TCP connection to the endpoint ("host" or "host:port") opens in time."""
    host, separator, port = endpoint.rpartition(":")
    if not separator:
        host, port = endpoint, str(DATABASE_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except (OSError, ValueError):
        return False


def probe_database():
    """Keeps state["database"] current in the background, so a health check never waits on
    the database: a slow answer would count as a failed check."""
    endpoint = None
    next_lookup = 0.0
    while True:
        if endpoint is None and time.monotonic() >= next_lookup:
            # Read once at boot; retried only while the parameter is missing (first deploy).
            # The global writer endpoint keeps its name across failovers.
            endpoint = writer_endpoint(state["region"])
            next_lookup = time.monotonic() + LOOKUP_RETRY_SECONDS
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
            # web instances out of service; the body tells the operator what is wrong.
            self.reply(200, {
                "status": "ok",
                "region": state["region"],
                "role": ROLE,
                "database": state["database"],
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
 * `{status, region, role, database}`: region from the instance metadata service (IMDSv2), role
 * baked in here, and whether a TCP connection to the database writer succeeds.
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
