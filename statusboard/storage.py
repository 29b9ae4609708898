"""Where the static export is published: a directory (for nginx) and/or a bucket (S3 API,
for a CDN). Both take the same files in the same order from the export (export.py), which
decides what changed; a target only says what it holds and writes or removes one file.

A file's hash is the MD5 of its bytes: that is also the ETag S3 gives a single-part upload
and checks (Content-MD5), so what a bucket holds is known from one listing, without
downloading anything, when the worker starts.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from statusboard.config import BucketSettings
from statusboard.web.store import write_atomically


class ExportRefused(Exception):
    """The target is not a place the export may write into."""


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class File:
    relative: str  # "index.html", "incidents/abc.html", "api/v2/summary.json"
    body: bytes
    content_type: str
    cache_control: str
    md5: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.md5:
            object.__setattr__(self, "md5", md5_of(self.body))


class Target(Protocol):
    name: str

    def holdings(self) -> dict[str, str]:
        """Every file the target holds now: relative name -> MD5 of its bytes."""
        ...

    def put(self, file: File) -> None: ...

    def delete(self, relative: str) -> None: ...


class DirectoryTarget:
    """Files under a directory, each replaced by renaming (a reader sees the old file or the
    new one, never half of one). Refuses an empty or non-directory target and never follows a
    symbolic link inside it, so it writes nothing outside its directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = _directory(str(directory))
        self.name = str(self.directory)

    def holdings(self) -> dict[str, str]:
        held: dict[str, str] = {}
        for root, directories, files in os.walk(self.directory):  # does not enter links
            directories[:] = [d for d in directories if not d.startswith(".")]
            for name in files:
                path = Path(root, name)
                if name.startswith(".") or path.is_symlink():
                    continue
                held[path.relative_to(self.directory).as_posix()] = md5_of(path.read_bytes())
        return held

    def put(self, file: File) -> None:
        write_atomically(self._path(file.relative), file.body)

    def delete(self, relative: str) -> None:
        self._path(relative).unlink(missing_ok=True)

    def _path(self, relative: str) -> Path:
        target = self.directory
        for part in Path(relative).parts:
            if part in ("..", "/"):
                raise ExportRefused(f"{relative} leaves the export directory")
            target = target / part
            if target.is_symlink():
                raise ExportRefused(
                    f"{target} is a symbolic link; the export does not follow links"
                )
        return target


def _directory(name: str) -> Path:
    if not name.strip():  # Path("") would be the current directory
        raise ExportRefused("give the directory to export into")
    directory = Path(name)
    if directory.is_symlink():
        raise ExportRefused(f"{directory} is a symbolic link; the export does not follow links")
    if directory.exists() and not directory.is_dir():
        raise ExportRefused(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class BucketTarget:
    """Objects under a prefix of an S3-compatible bucket, uploaded with their Content-Type,
    Cache-Control and Content-MD5 (the store refuses a body that does not match it)."""

    def __init__(self, settings: BucketSettings, *, timeout: float = 10) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = settings.bucket, settings.prefix
        self.name = f"s3://{settings.bucket}/{settings.prefix}"
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=16,
            ),
        )

    def holdings(self) -> dict[str, str]:
        return {
            item["Key"][len(self.prefix) :]: item["ETag"].strip('"') for item in self._listing()
        }

    def _listing(self) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            yield from page.get("Contents", [])

    def put(self, file: File) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + file.relative,
            Body=file.body,
            ContentType=file.content_type,
            CacheControl=file.cache_control,
            ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode(),
        )

    def delete(self, relative: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + relative)
