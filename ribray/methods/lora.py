"""LoRA (Hu et al. 2022) as ImageNet-RIB's reference code applies it to a timm ViT: rank 8,
alpha 1 (scaling alpha / rank = 1/8), on the query and value projections only, no dropout.

timm fuses q, k and v into one Linear (`attn.qkv`), and LoRA on it would adapt k too, so
`prepare` first splits it into separate q, k, v Linear layers (same weights, same outputs)
and then attaches peft adapters to q and v. What trains follows the reference code: the
adapters, and everything outside the patch embedding, the blocks and the head — i.e. the
cls token, the position embedding and the final norm (plus `fc_norm` / `norm_pre` where a
model has them). The patch embedding, every non-adapter block weight and the head are frozen.

`export` merges the adapters into the weights and fuses qkv back, so the saved weights are a
state dict of the unmodified timm model: LoRA can be interpolated with WiSE-FT and soups.

Another architecture takes LoRA when its model entry declares its parts with `lora_targets`
(`ribray.parts.ModelParts`): a regex of the Linear modules to adapt; then the same parameters
train (adapters, and everything outside the embedding, the blocks and the head).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ribray.errors import RibrayError
from ribray.methods import register
from ribray.methods._parts import classifier_names, declared_parts, feature_extractor, set_trainable
from ribray.methods.base import Method, MethodOptions
from ribray.parts import in_part

if TYPE_CHECKING:
    import torch
    from torch import nn

# peft matches a string target as a regex on the full module name: only the split q and v.
TARGET_MODULES = r".*\.attn\.qkv\.(q|v)"
ADAPTER_MARKERS = (".lora_A.", ".lora_B.")


class LoraOptions(MethodOptions):
    rank: int = Field(8, ge=1, description="rank r of the low-rank update")
    alpha: float = Field(1.0, gt=0, description="lora_alpha; the update is scaled by alpha / rank")


@register("lora")
class LowRankAdaptation(Method):
    order = 50
    summary = "LoRA r=8, alpha=1 on q and v (fused qkv split); head frozen"
    Options = LoraOptions

    def check_model(self, model: nn.Module) -> None:
        parts = declared_parts(model)
        if parts is not None:
            _declared_targets(model, parts.lora_targets)
            return
        from ribray.methods._split_qkv import fused_qkv_blocks

        blocks = getattr(model, "blocks", [])
        if not blocks or len(fused_qkv_blocks(model)) != len(blocks):
            raise RibrayError(f"lora needs a timm ViT whose blocks have a fused attn.qkv Linear, or a model entry "
                              f"that declares lora_targets (ModelParts); {type(model).__name__} has neither")

    def prepare(self, model: nn.Module) -> nn.Module:
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model

        from ribray.methods._split_qkv import split_qkv

        self.check_model(model)
        parts = declared_parts(model)
        if parts is None:
            split_qkv(model)
        config = PeftLoraConfig(r=self.options.rank, lora_alpha=self.options.alpha,
                                target_modules=parts.lora_targets if parts else TARGET_MODULES,
                                lora_dropout=0.0, bias="none")
        return get_peft_model(model, config)

    def select_trainable(self, model: nn.Module) -> None:
        base = model.get_base_model()
        head = classifier_names(base)
        frozen = feature_extractor(base) or ()
        trainable = {name for name, _ in base.named_parameters()
                     if any(marker in name for marker in ADAPTER_MARKERS)
                     or (name not in head and not in_part(name, frozen))}
        set_trainable(base, trainable)

    def export(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The merged weights, keyed like the original timm model (the model is not changed)."""
        import copy

        merged = _merged_timm_model(copy.deepcopy(model))
        return {key: value.detach() for key, value in merged.state_dict().items()}

    def load_export(self, model: nn.Module, weights: dict[str, torch.Tensor]) -> nn.Module:
        """The plain timm model holding exported (merged) weights."""
        plain = _merged_timm_model(model)
        plain.load_state_dict(weights)
        return plain


def _declared_targets(model: nn.Module, pattern: str | None) -> None:
    """The Linear modules a declared `lora_targets` names: at least one, or an error."""
    import re

    from torch import nn

    if not pattern:
        raise RibrayError(f"lora: the model entry of {type(model).__name__} declares no lora_targets (ModelParts): "
                          "it does not say which Linear layers LoRA adapts")
    names = [name for name, module in model.named_modules()
             if isinstance(module, nn.Linear) and re.fullmatch(pattern, name)]
    if not names:
        raise RibrayError(f"lora: lora_targets {pattern!r} matches no Linear module of {type(model).__name__}")


def _merged_timm_model(peft_model: nn.Module) -> nn.Module:
    """Merge the adapters into q and v, drop peft's wrappers and fuse qkv back (in place)."""
    from ribray.methods._split_qkv import fuse_qkv

    plain = peft_model.merge_and_unload()
    fuse_qkv(plain)
    return plain
