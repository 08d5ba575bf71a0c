"""Conditional writes to object stores, which pyarrow.fs does not offer: create an object only
if none exists, or replace it only if it is still the version that was read. What makes a lock
in an object store exclusive (`ribray.results.lock`): of several writers at once, one wins.

S3 through boto3 (`If-None-Match: *`, `If-Match: <etag>`); GCS through its JSON API with
google-auth (`ifGenerationMatch=0`, `ifGenerationMatch=<generation>`). Both read the options
of ribray's URIs (`?endpoint_override=host:port&scheme=http`) and the clients' own environment
for credentials, as pyarrow does."""

from __future__ import annotations

import functools
import json
import os
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

from ribray.errors import RibrayError, first_line

if TYPE_CHECKING:
    from ribray.storage import Location

GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"


def read_versioned(location: Location) -> tuple[bytes, str] | None:
    """The object's bytes and its version (S3 ETag, GCS generation), or None if there is none."""
    return _store(location).read(*_bucket_key(location))


def write_if(location: Location, data: bytes, version: str | None) -> bool:
    """Write `data` only if the object does not exist (`version` None) or is still at `version`;
    False when another writer got there first."""
    return _store(location).write(*_bucket_key(location), data, version)


def _bucket_key(location: Location) -> tuple[str, str]:
    bucket, _, key = location.path.partition("/")
    return bucket, key


def _options(location: Location) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(location.uri).query).items()}


def _endpoint(options: dict[str, str], default: str | None) -> str | None:
    host = options.get("endpoint_override")
    if not host:
        return default
    return host if "://" in host else f"{options.get('scheme', 'https')}://{host}"


def _store(location: Location):
    scheme = urlsplit(location.uri).scheme
    options = _options(location)
    if scheme == "s3":
        return _S3(_endpoint(options, None), options.get("region"))
    if scheme in ("gs", "gcs"):
        return _GCS(_endpoint(options, "https://storage.googleapis.com"), options.get("anonymous") == "true")
    raise RibrayError(f"{location.uri}: ribray can lock a sweep only on a local disk, S3 or GCS (not {scheme}://)")


class _S3:
    def __init__(self, endpoint: str | None, region: str | None):
        try:
            from botocore.exceptions import BotoCoreError, ClientError

            self.client = _s3_client(endpoint, region, *(os.environ.get(v) for v in _S3_ENVIRONMENT))
        except ImportError:
            raise RibrayError("a sweep stored in S3 needs boto3 for its lock (conditional writes): "
                              "pip install boto3") from None
        self.errors = (BotoCoreError, ClientError)

    def read(self, bucket: str, key: str) -> tuple[bytes, str] | None:
        try:
            found = self.client.get_object(Bucket=bucket, Key=key)
            return found["Body"].read(), found["ETag"]
        except self.errors as error:
            if _s3_code(error) in ("NoSuchKey", "404"):
                return None
            raise RibrayError(f"cannot read s3://{bucket}/{key}: {first_line(error)}") from None

    def write(self, bucket: str, key: str, data: bytes, version: str | None) -> bool:
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        try:
            self.client.put_object(Bucket=bucket, Key=key, Body=data, **condition)
            return True
        except self.errors as error:
            if _s3_code(error) in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"):
                return False  # another writer's object is there now (or the one read is gone)
            raise RibrayError(f"cannot write s3://{bucket}/{key}: {first_line(error)}") from None


_S3_ENVIRONMENT = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION")


@functools.lru_cache(maxsize=8)
def _s3_client(endpoint: str | None, region: str | None, *environment: str | None):
    """A client per endpoint and environment (boto3's clients are thread-safe; making one is slow)."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=region)


def _s3_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


class _GCS:
    def __init__(self, endpoint: str, anonymous: bool):
        self.endpoint = endpoint.rstrip("/")
        self.session = _gcs_session(anonymous, os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"))

    def read(self, bucket: str, key: str) -> tuple[bytes, str] | None:
        url = f"{self.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"
        found = self._call("read", f"gs://{bucket}/{key}", "GET", url, params={"fields": "generation"})
        if found.status_code == 404:
            return None
        generation = found.json()["generation"]
        media = self._call("read", f"gs://{bucket}/{key}", "GET", url,
                           params={"alt": "media", "generation": generation})
        if media.status_code == 404:  # replaced since: that generation is gone
            return self.read(bucket, key)
        return media.content, str(generation)

    def write(self, bucket: str, key: str, data: bytes, version: str | None) -> bool:
        boundary = uuid.uuid4().hex  # a multipart upload: the upload type that honours preconditions everywhere
        body = b"".join([f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                         json.dumps({"name": key}).encode(),
                         f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(), data,
                         f"\r\n--{boundary}--\r\n".encode()])
        url = f"{self.endpoint}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        answer = self._call("write", f"gs://{bucket}/{key}", "POST", url, data=body,
                            params={"uploadType": "multipart", "ifGenerationMatch": version or "0"},
                            headers={"Content-Type": f"multipart/related; boundary={boundary}"})
        return answer.status_code != 412

    def _call(self, what: str, uri: str, method: str, url: str, **arguments):
        import requests

        try:
            answer = self.session.request(method, url, timeout=60, **arguments)
        except (requests.RequestException, OSError) as error:
            raise RibrayError(f"cannot {what} {uri}: {first_line(error)}") from None
        if answer.status_code >= 400 and answer.status_code not in (404, 412):
            raise RibrayError(f"cannot {what} {uri}: HTTP {answer.status_code} {answer.text[:200]}")
        return answer


@functools.lru_cache(maxsize=4)
def _gcs_session(anonymous: bool, key_file: str | None):
    """An authorized HTTP session, with the credentials pyarrow's GCS client would use; a service
    account signs its own tokens (no token server is asked, as in Google's C++ client)."""
    try:
        import google.auth
        import google.auth.exceptions
        from google.auth.credentials import AnonymousCredentials
        from google.auth.transport.requests import AuthorizedSession
    except ImportError:
        raise RibrayError("a sweep stored in GCS needs google-auth for its lock (conditional writes): "
                          "pip install google-auth requests") from None
    if anonymous:
        return AuthorizedSession(AnonymousCredentials())
    try:
        credentials, _ = google.auth.default(scopes=[GCS_SCOPE])
    except google.auth.exceptions.DefaultCredentialsError as error:
        raise RibrayError(f"no Google credentials for the sweep's lock in GCS: {first_line(error)}") from None
    if hasattr(credentials, "with_always_use_jwt_access"):
        credentials = credentials.with_always_use_jwt_access(True)
    return AuthorizedSession(credentials)
