"""Runs Synapse's own config loader on homeserver.yaml files; one JSON line per file.

Usage: python validate.py FILE...

Each file is copied into a scratch folder with `/app/data` and `/data` replaced by that
folder (the fixtures' data roots), and the signing key and log config it names are created
there, so that only the settings mas-link writes decide the verdict.
"""

import json
import os
import sys
import tempfile

import yaml
from signedjson.key import generate_signing_key, write_signing_keys
from synapse.config._base import ConfigError, format_config_error
from synapse.config.homeserver import HomeServerConfig


def make_named_files(node) -> None:
    """Creates the files an SSO provider names (a client secret, a signing key), which Synapse
    reads when it loads the config."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("client_secret_path", "key_file") and isinstance(v, str) and v:
                os.makedirs(os.path.dirname(v), exist_ok=True)
                with open(v, "wb") as f:
                    f.write(pem_key() if k == "key_file" else b"a-client-secret\n")
            else:
                make_named_files(v)
    elif isinstance(node, list):
        for v in node:
            make_named_files(v)


def pem_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def validate(path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
        text = text.replace("/app/data", tmp).replace("/data", tmp)
        try:
            parsed = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            return {"file": path, "ok": False, "error": f"YAML: {e}"}
        if isinstance(parsed, dict):
            key = parsed.get("signing_key_path")
            if isinstance(key, str) and key:
                os.makedirs(os.path.dirname(key), exist_ok=True)
                with open(key, "w") as f:
                    write_signing_keys(f, [generate_signing_key("a_test")])
            make_named_files(parsed)
            log = parsed.get("log_config")
            if isinstance(log, str):
                os.makedirs(os.path.dirname(log), exist_ok=True)
                with open(log, "w") as f:
                    f.write("version: 1\n")
        config_path = os.path.join(tmp, "homeserver.yaml")
        with open(config_path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        try:
            HomeServerConfig.load_config("synapse", ["-c", config_path])
        except ConfigError as e:
            return {"file": path, "ok": False, "error": "\n".join(format_config_error(e))}
        except SystemExit as e:
            return {"file": path, "ok": False, "error": f"exit {e.code}"}
        except Exception as e:  # noqa: BLE001 - any crash is a refusal
            return {"file": path, "ok": False, "error": f"{type(e).__name__}: {e}"}
        return {"file": path, "ok": True, "error": None}


def main() -> None:
    for path in sys.argv[1:]:
        print(json.dumps(validate(path)), flush=True)


if __name__ == "__main__":
    main()
