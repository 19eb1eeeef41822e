"""mas-link's bridge to Synapse's own config loader (run by Synapse's Python).

Reads {"files": [{"path", "text"}], "keys_dir"} as JSON on stdin and loads the texts as
Synapse's `load_config_with_parser` loads its `-c` files: each parsed with PyYAML, non-mappings
skipped, merged shallowly, then parsed and validated by HomeServerConfig. The texts may be
planned ones not yet written. Prints one JSON line: {"synapse": version} when Synapse cannot
be imported, else {"synapse": version, "ok": bool, "error": text, "path": [keys]}; a fault
of this bridge's own code (not Synapse's) is {"synapse": version, "bridge": text}.

It runs on every Synapse from MAS's floor (1.136) on: what came later (`validate_config`,
from 1.140) is called only where it exists.
"""

import argparse
import json
import sys
import traceback


def main() -> None:
    request = json.load(sys.stdin)
    out = sys.stdout
    # Synapse prints notes ("IGNORING") on stdout: keep ours the only line there.
    sys.stdout = sys.stderr
    try:
        import synapse
        import yaml
        from synapse.config._base import (
            MISSING_REPORT_STATS_CONFIG_INSTRUCTIONS,
            MISSING_SERVER_NAME,
            ConfigError,
            format_config_error,
        )
        from synapse.config.homeserver import HomeServerConfig
    except ImportError:
        out.write(json.dumps({"synapse": None}) + "\n")
        return
    verdict = {"synapse": synapse.__version__, "ok": True, "error": None, "path": None}
    try:
        merged = {}
        for f in request["files"]:
            parsed = yaml.safe_load(f["text"])
            if isinstance(parsed, dict):
                merged.update(parsed)
        if "server_name" not in merged:
            raise ConfigError(MISSING_SERVER_NAME, ("server_name",))
        if "report_stats" not in merged:
            raise ConfigError(MISSING_REPORT_STATS_CONFIG_INSTRUCTIONS, ("report_stats",))
        parser = argparse.ArgumentParser()
        HomeServerConfig.add_arguments_to_parser(parser)
        args = parser.parse_args(["-c", request["files"][-1]["path"]])
        config = HomeServerConfig([f["path"] for f in request["files"]])
        config.parse_config_dict(
            merged,
            config_dir_path=request["keys_dir"],
            data_dir_path=request["data_dir"],
            allow_secrets_in_config=True,
        )
        config.invoke_all("read_arguments", args)
        # From 1.140, Synapse validates across sections after parsing (open registration
        # among it); before, parsing and Synapse's start-up did.
        if hasattr(config, "validate_config"):
            config.validate_config()
    except ConfigError as e:
        verdict.update(ok=False, error="".join(format_config_error(e)).strip())
        verdict["path"] = [str(p) for p in (e.path or [])]
    except yaml.YAMLError as e:
        verdict.update(ok=False, error=f"YAML: {e}")
    except Exception as e:  # noqa: BLE001 - Synapse would fail to start just the same
        frames = traceback.extract_tb(e.__traceback__)
        if frames and frames[-1].filename == main.__code__.co_filename:
            # Raised by this script's own line, not inside Synapse: ours to own.
            verdict = {"synapse": synapse.__version__, "bridge": f"{type(e).__name__}: {e}"}
        else:
            verdict.update(ok=False, error=f"{type(e).__name__}: {e}")
    out.write(json.dumps(verdict) + "\n")


if __name__ == "__main__":
    main()
