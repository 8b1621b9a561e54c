"""Calls gRPC methods with raw request bytes and prints what grpcio-status decodes from each
error: code, message, and the standard rich details (BadRequest, RetryInfo, ErrorInfo).

argv: target (host:port), bearer token. stdin: JSON list of {"method", "request_hex"}.
stdout: JSON list, one object per call."""

import json
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def decode(err):
    out = {
        "code": err.code().name,
        "message": err.details(),
        "field_violations": [],
        "retry_delay_secs": None,
        "reason": None,
        "domain": None,
        "metadata": {},
    }
    status = rpc_status.from_call(err)
    if status is None:
        return out
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out["field_violations"] += [
                {"field": v.field, "description": v.description} for v in bad.field_violations
            ]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            out["retry_delay_secs"] = retry.retry_delay.seconds
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            out["reason"] = info.reason
            out["domain"] = info.domain
            out["metadata"] = dict(info.metadata)
    return out


def main():
    target, token = sys.argv[1], sys.argv[2]
    calls = json.load(sys.stdin)
    results = []
    with grpc.insecure_channel(target) as channel:
        for call in calls:
            method = channel.unary_unary(call["method"])
            try:
                method(
                    bytes.fromhex(call["request_hex"]),
                    metadata=[("authorization", f"Bearer {token}")],
                    timeout=30,
                )
                results.append({"code": "OK"})
            except grpc.RpcError as err:
                results.append(decode(err))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
