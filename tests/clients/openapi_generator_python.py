"""Calls every function through openapi-generator's ``python`` client; prints the results."""

import base64
import json
import sys

import kitchen_client as k


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


api = k.FunctionsApi(k.ApiClient(k.Configuration(host=sys.argv[1])))
health = k.HealthApi(k.ApiClient(k.Configuration(host=sys.argv[1])))
results = {
    "scale": api.scale(k.ScaleRequest(values=[1, 2.5])).result,
    "checksum": api.checksum(
        k.ChecksumRequest(data=b64("héllo".encode()), tags={"a": 2}, upper=True)
    ).result,
    "checksum_upload": api.checksum_upload(
        data=("d.bin", "héllo".encode()), tags={"a": 2}, upper=True
    ).result,
    "reverse_bytes": api.reverse_bytes(k.ReverseBytesRequest(data=b64(b"abc"), repeat=2)).result,
    "reverse_bytes_upload": api.reverse_bytes_upload(data=b"abc", repeat=2, sep=b"-").result,
    "describe": api.describe(
        k.DescribeRequest(words=["a", "b"], loud=True, nested={"k": [b64(b"xy")]}, bonus=None)
    ).result,
    "health": health.health_ready().status,
}
raw = api.reverse_bytes_without_preload_content(
    k.ReverseBytesRequest(data=b64(b"abc")), _headers={"Accept": "application/octet-stream"}
)
results["reverse_bytes_raw"] = [raw.headers["content-type"], raw.data.decode("latin-1")]
try:
    api.reverse_bytes(k.ReverseBytesRequest(data=b64(b"abc"), repeat=101))
except k.ApiException as exc:
    results["error"] = [exc.status, json.loads(exc.body)["error"]["code"]]
print(json.dumps(results))
