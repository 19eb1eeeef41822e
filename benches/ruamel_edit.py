"""The same link as `mas-link synapse --yes`, done with ruamel.yaml's round-trip mode (the
best format-keeping YAML editor Python has), for benches/compare.rs: five edits, then write."""

import sys

from ruamel.yaml import YAML

path = sys.argv[1]
yaml = YAML()  # round-trip: keeps comments where it can
with open(path) as f:
    doc = yaml.load(f)
mas = doc.setdefault("matrix_authentication_service", {})
mas["enabled"] = True
mas["endpoint"] = "https://auth.example.org/"
mas["secret"] = "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP"
pw = doc.get("password_config")
if not isinstance(pw, dict):
    pw = doc["password_config"] = {}
pw["enabled"] = False
doc["enable_registration"] = False
exp = doc.get("experimental_features")
if not isinstance(exp, dict):
    exp = doc["experimental_features"] = {}
exp["msc4108_enabled"] = True
with open(path, "w") as f:
    yaml.dump(doc, f)
