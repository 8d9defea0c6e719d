"""Credentials out of stored URLs and of every message."""

from __future__ import annotations

import base64

import pytest

from extractor.model import secrets
from extractor.model.secrets import mask, redact_url, remember, url_secrets


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:KEY123@host/v1", "https://***@host/v1"),
        ("https://KEY123@host/v1", "https://***@host/v1"),
        ("https://h/v1?api-key=KEY123&api-version=2024", "https://h/v1?api-key=***&api-version=2024"),
        ("https://h/v1?key=K&token=T&access_token=A", "https://h/v1?key=***&token=***&access_token=***"),
        ("https://h/v1?author=me&design=x", "https://h/v1?author=me&design=x"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ],
)  # fmt: skip
def test_credentials_are_removed_from_urls_and_clean_urls_are_unchanged(
    url: str, redacted: str
) -> None:
    assert redact_url(url) == redacted


def test_url_secrets_are_the_password_and_the_secret_parameters() -> None:
    assert url_secrets("https://user:PW1234@h/v1?api-key=AK1234&x=1") == ["PW1234", "AK1234"]
    assert url_secrets(None) == []


def fake_credentials() -> dict[str, str]:
    """Credential-shaped strings built at test time, so that no tracked file holds one."""
    return {
        "header": "Authorization",
        "bearer": " ".join(["Bearer", "tok.en-" + str(123456)]),
        "basic": " ".join(["Basic", base64.b64encode(b"user:pass").decode()]),
        "key": "-".join(["sk", "proj", "abcdef" + str(123)]),
    }


def test_mask_hides_remembered_secrets_and_credential_shapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(secrets, "_known", set())
    remember("plain-secret-value", None, "ab")  # too short to remember safely: "ab"
    fake = fake_credentials()
    text = mask(
        f"echo: plain-secret-value; {fake['header']}: {fake['bearer']}; {fake['basic']}; "
        f'{fake["key"]}; https://u:p@gw/v1?api-key=zzz; {{"api-key": "abc123"}}; a tab'
    )
    assert text == (
        f"echo: ***; {fake['header']}: Bearer ***; Basic ***; sk-***; "
        'https://***@gw/v1?api-key=***; {"api-key": "***"}; a tab'
    )
