"""The built-in layers and losses, one file per family."""
from .module import Module
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Bilinear, Identity, Linear
from .flatten import Flatten, Unflatten
from .activation import *  # noqa: F401,F403
from .activation import __all__ as _activation
from .dropout import *  # noqa: F401,F403
from .dropout import __all__ as _dropout
from .sparse import Embedding, EmbeddingBag
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .rnn import *  # noqa: F401,F403
from .rnn import __all__ as _rnn
from .attention import *  # noqa: F401,F403
from .attention import __all__ as _attention
from .transformer import *  # noqa: F401,F403
from .transformer import __all__ as _transformer
from .loss import *  # noqa: F401,F403
from .loss import __all__ as _loss
from .sampling import *  # noqa: F401,F403
from .sampling import __all__ as _sampling
from .distance import *  # noqa: F401,F403
from .distance import __all__ as _distance
from .fold import *  # noqa: F401,F403
from .fold import __all__ as _fold
from .padding import *  # noqa: F401,F403
from .padding import __all__ as _padding

__all__ = (["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Linear",
            "Bilinear", "Identity", "Flatten", "Unflatten", "Embedding", "EmbeddingBag"]
           + _activation + _dropout + _normalization + _conv + _pooling + _rnn + _attention + _transformer + _loss
           + _sampling + _distance + _fold + _padding)
