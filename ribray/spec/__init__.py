"""The sweep spec: strict YAML -> typed, validated blocks (`load_spec`), and `check_spec`,
every check that needs no GPU and no Ray (`ribray validate`)."""

from ribray.spec.load import format_validation_error, load_spec, parse_spec
from ribray.spec.schema import DataSpec, MlflowSpec, ModelSpec, ResourcesSpec, Spec

__all__ = ["DataSpec", "MlflowSpec", "ModelSpec", "ResourcesSpec", "Spec", "format_validation_error",
           "load_spec", "parse_spec"]
