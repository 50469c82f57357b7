"""Functional forms of the layers and losses, as `torch.nn.functional`."""
from .activation import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .embedding_bag import embedding_bag  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .conv3d import conv3d  # noqa: F401
from .pooling3d import adaptive_avg_pool3d, avg_pool3d, max_pool3d  # noqa: F401
from .attention import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
