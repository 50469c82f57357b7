"""PyTorch's API in the families the parity work covers exists in ember, with compatible signatures.

Compared with the installed torch (the torch tox env; skipped without it). A name missing from ember
must be in EXCLUDED, with the reason; the README lists the same exclusions.
"""
from __future__ import annotations

import inspect

import pytest

import ember

torch = pytest.importorskip("torch")

FAMILIES = {
    "torch": """
        scatter scatter_reduce index_add index_copy index_fill index_put masked_select masked_scatter take
        take_along_dim nonzero argwhere gather select narrow
        tril triu tril_indices triu_indices diag diagonal diag_embed diagflat broadcast_to broadcast_tensors
        broadcast_shapes meshgrid hstack vstack dstack column_stack repeat_interleave rot90 movedim moveaxis
        swapaxes swapdims unflatten atleast_1d atleast_2d atleast_3d
        cumsum cumprod cummax cummin logcumsumexp sort argsort msort kthvalue median nanmedian mode unique
        unique_consecutive searchsorted bucketize histc bincount topk
        einsum addmm addmv addbmm baddbmm mm mv bmm dot inner outer kron cross tensordot cdist nan_to_num
        logaddexp logaddexp2 hypot xlogy softmax log_softmax
        finfo iinfo set_num_threads get_num_threads set_printoptions Size
        FloatTensor DoubleTensor HalfTensor LongTensor IntTensor ShortTensor CharTensor ByteTensor BoolTensor
    """,
    "torch.Tensor": """
        scatter scatter_ scatter_reduce scatter_reduce_ index_add index_add_ index_copy index_copy_ index_fill
        index_fill_ index_put index_put_ masked_select masked_scatter masked_scatter_ take take_along_dim put_
        nonzero argwhere tril triu tril_ triu_ diag diagonal diag_embed broadcast_to repeat_interleave rot90
        movedim moveaxis swapaxes swapdims unflatten cumprod cummax cummin logcumsumexp argsort msort kthvalue
        median nanmedian mode unique unique_consecutive bincount histc addmm addmv addbmm baddbmm mv inner outer
        kron cross nan_to_num logaddexp hypot xlogy softmax log_softmax nbytes itemsize element_size is_contiguous
        stride storage_offset data_ptr type det inverse pinverse matrix_power cholesky select
    """,
    "torch.linalg": """
        norm vector_norm matrix_norm inv det slogdet solve lstsq qr svd svdvals eigh eigvalsh cholesky pinv
        matrix_power matrix_rank
    """,
    "torch.nn.functional": """
        interpolate cosine_similarity pairwise_distance unfold fold pixel_shuffle pixel_unshuffle
        local_response_norm grid_sample affine_grid one_hot normalize embedding_bag conv3d max_pool3d avg_pool3d
    """,
    "torch.nn": """
        Upsample UpsamplingNearest2d UpsamplingBilinear2d CosineSimilarity PairwiseDistance Unfold Fold
        PixelShuffle PixelUnshuffle ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d
        ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d
        CircularPad1d CircularPad2d CircularPad3d LocalResponseNorm EmbeddingBag Conv3d MaxPool3d AvgPool3d
    """,
    "torch.nn.utils.rnn": "pad_sequence pack_padded_sequence pad_packed_sequence PackedSequence",
    "torch.optim.lr_scheduler": "CyclicLR CosineAnnealingWarmRestarts",
}

# name -> why ember does not have it (kept in sync with the README's list of exclusions)
EXCLUDED: dict[str, str] = {
    "torch.Tensor.data_ptr": "backends expose no memory addresses",
}


def _module(path: str, root):
    obj = root
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _pairs():
    for path, names in FAMILIES.items():
        for name in names.split():
            yield pytest.param(path, name, id=f"{path}.{name}")


def _parameters(fn) -> list[str] | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a C function without a signature
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


@pytest.mark.no_device
@pytest.mark.parametrize("path, name", list(_pairs()))
def test_pytorchs_name_exists_in_ember_with_a_compatible_signature(path, name):
    theirs = _module(path, torch)
    ours = _module(path.replace("torch", "ember", 1), ember)
    qualified = f"{path}.{name}"
    if qualified in EXCLUDED:
        assert not hasattr(ours, name), f"{qualified} exists now: remove it from EXCLUDED and the README"
        return
    assert hasattr(ours, name), f"ember lacks {qualified}"
    want, got = _parameters(getattr(theirs, name)), _parameters(getattr(ours, name))
    if want is not None and got is not None and not inspect.isclass(getattr(theirs, name)):
        assert got[:len(want)] == want[:len(got)], f"{qualified}: ember's positional parameters {got} != {want}"
