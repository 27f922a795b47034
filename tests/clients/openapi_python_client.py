"""Calls every function through openapi-python-client's client; prints the results."""

import base64
import io
import json
import sys

from kitchen_sink_client import Client
from kitchen_sink_client.api.functions import (
    checksum,
    checksum_upload,
    describe,
    reverse_bytes,
    reverse_bytes_upload,
    scale,
)
from kitchen_sink_client.api.health import health_ready
from kitchen_sink_client.models import (
    ChecksumForm,
    ChecksumFormTags,
    ChecksumRequest,
    ChecksumRequestTagsType0,
    DescribeRequest,
    DescribeRequestNestedType0,
    Error,
    ReverseBytesForm,
    ReverseBytesRequest,
    ScaleRequest,
)
from kitchen_sink_client.types import File


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


client = Client(base_url=sys.argv[1], raise_on_unexpected_status=True)
tags = {"a": 2}
results = {
    "scale": scale.sync(client=client, body=ScaleRequest(values=[1, 2.5])).result,
    "checksum": checksum.sync(
        client=client,
        body=ChecksumRequest(
            data=b64("héllo".encode()), tags=ChecksumRequestTagsType0.from_dict(tags), upper=True
        ),
    ).result.to_dict(),
    "checksum_upload": checksum_upload.sync(
        client=client,
        body=ChecksumForm(
            data=File(payload=io.BytesIO("héllo".encode()), file_name="d.bin"),
            tags=ChecksumFormTags.from_dict(tags),
            upper=True,
        ),
    ).result.to_dict(),
    "reverse_bytes": reverse_bytes.sync(
        client=client, body=ReverseBytesRequest(data=b64(b"abc"), repeat=2)
    ).result,
    "reverse_bytes_upload": reverse_bytes_upload.sync(
        client=client,
        body=ReverseBytesForm(
            data=File(payload=io.BytesIO(b"abc")), repeat=2, sep=File(payload=io.BytesIO(b"-"))
        ),
    ).result,
    "describe": describe.sync(
        client=client,
        body=DescribeRequest(
            words=["a", "b"],
            loud=True,
            nested=DescribeRequestNestedType0.from_dict({"k": [b64(b"xy")]}),
            bonus=None,
        ),
    ).result,
    "health": health_ready.sync(client=client).status,
}
refused = reverse_bytes.sync_detailed(
    client=client, body=ReverseBytesRequest(data=b64(b"abc"), repeat=101)
)
assert isinstance(refused.parsed, Error), refused
results["error"] = [int(refused.status_code), refused.parsed.error.code]
print(json.dumps(results))
