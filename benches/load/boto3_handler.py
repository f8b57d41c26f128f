"""The course lecture's Cat Upload handler (Python + boto3), served over local HTTP for
benches/load.rs: the same API and the same work as lambda-fn, so both answer the same load.

POST {"contentType", "size"} -> a presigned put_object URL for images/<inverted ms>-<uuid4>.<ext>
GET ?limit=N&cursor=C        -> list_objects_v2 under images/ and a presigned GET per object

Usage: boto3_handler.py PORT (0 picks a free one). Environment: AWS_ENDPOINT_URL (the emulator),
IMAGES_BUCKET, AWS credentials and region. Prints "ready <port>" once listening. Loopback only.
"""

import base64
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config

TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_BODY_BYTES = 16 * 1024
TTL = 300
PREFIX = "images/"
INVERSION_BASE = 9_999_999_999_999

BUCKET = os.environ["IMAGES_BUCKET"]
# Created once, as a Lambda handler does at init; boto3 clients are thread-safe.
S3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def upload_url(body):
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", "the request body is too large")
    try:
        request = json.loads(body)
    except ValueError:
        raise ApiError(400, "bad_request", "the body is not valid JSON")
    if not isinstance(request, dict):
        raise ApiError(400, "bad_request", "the body is not a JSON object")
    content_type = request.get("contentType")
    if not isinstance(content_type, str):
        raise ApiError(400, "bad_request", "contentType must be a string")
    content_type = content_type.lower()
    if content_type not in TYPES:
        raise ApiError(415, "unsupported_media_type", "contentType is not allowed")
    size = request.get("size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ApiError(400, "bad_request", "size must be a whole number from 1")
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(413, "too_large", "size is over the limit")
    inverted = INVERSION_BASE - int(time.time() * 1000)
    key = f"{PREFIX}{inverted:013d}-{uuid.uuid4()}.{TYPES[content_type]}"
    params = {"Bucket": BUCKET, "Key": key, "ContentType": content_type}
    headers = {"content-type": content_type}
    if size is not None:
        params["ContentLength"] = size
        headers = {"content-length": str(size), "content-type": content_type}
    url = S3.generate_presigned_url("put_object", Params=params, ExpiresIn=TTL)
    return {"uploadUrl": url, "key": key, "contentType": content_type, "expiresIn": TTL,
            "method": "PUT", "headers": headers}


def gallery(query):
    params = parse_qs(query)
    try:
        limit = int(params.get("limit", ["100"])[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise ApiError(400, "bad_request", "limit must be a whole number from 1 to 1000")
    list_args = {"Bucket": BUCKET, "Prefix": PREFIX, "MaxKeys": limit}
    if "cursor" in params:
        cursor = params["cursor"][0]
        try:
            start_after = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except ValueError:
            start_after = ""
        if not start_after.startswith(PREFIX):
            raise ApiError(400, "bad_request", "cursor is not one this API returned in `next`")
        list_args["StartAfter"] = start_after
    try:
        listing = S3.list_objects_v2(**list_args)
    except Exception as e:
        print(f"ListObjectsV2 failed: {e}", file=sys.stderr, flush=True)
        raise ApiError(502, "storage_unavailable", "S3 failed")
    objects = listing.get("Contents", [])
    images = [{
        "key": o["Key"],
        "url": S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": o["Key"]},
                                         ExpiresIn=TTL),
        "size": o.get("Size", 0),
        "lastModified": o["LastModified"].strftime("%Y-%m-%dT%H:%M:%SZ"),
    } for o in objects]
    body = {"images": images, "expiresIn": TTL}
    if listing.get("IsTruncated") and objects:
        body["next"] = base64.urlsafe_b64encode(objects[-1]["Key"].encode()).decode().rstrip("=")
    return body


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the Rust side's local Function URL (hyper) has: the load tool reuses
    # its connections for both, so neither side pays a TCP handshake per request.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(lambda: upload_url(self.rfile.read(length)))

    def do_GET(self):
        self.answer(lambda: gallery(urlsplit(self.path).query))

    def answer(self, work):
        try:
            status, body = 200, work()
        except ApiError as e:
            status, body = e.status, {"error": {"code": e.code, "message": e.message}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog (5) drops SYNs when the load tool opens its connections at once,
    # which costs a 1 s retransmit; the Rust side's listener has a large backlog.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # The load tool drops the requests in flight when a phase hits its time bound.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
