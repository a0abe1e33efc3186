"""Who looks at whom: interaction analysis of the head poses of one frame.

:func:`analyze` takes the poses of the N people of one image (any object with ``yaw``, ``pitch``
(N,) degrees, ``sigma`` (N, 3) degrees, ``centroid`` (N, 2) pixels, ``head_size`` (N,) pixels and
``valid`` (N,) bool — a :class:`hhpnet.pipeline.Poses`, or :func:`from_arrays`) and returns an
:class:`Interaction`. Two families of methods (details and parameters in ``docs/interaction.md``):

``method="hhpnet"`` (default) — 3-D, probabilistic.
    1. *Camera*: pinhole, focal length ``f = (W / 2) / tan(fov_deg / 2)`` pixels from the image
       width W (``focal_px`` overrides it); principal point at the image centre. Without an image
       size, the heads' bounding box (padded by one head size) is taken as the central half of
       the image width, centred on the principal point.
    2. *Depth from apparent size*: the keypoint span a head would have at 1 mm distance·f is
       computed from a mean 3-D head (``head_model``, :func:`hhpnet.headmodel.detector_shape`) posed
       with the person's yaw and pitch, over the keypoints actually present; depth
       ``Z = f · span_mm / head_size_px`` (mm, nominal: an adult head). ``depth="none"`` puts
       everybody at the same depth (image-plane positions, 3-D gaze).
    3. *Gaze*: the facing direction of :func:`hhpnet.convention.facing_direction` is relative to
       the viewing ray through the head (the convention of the model's labels), so it is rotated
       by the rotation taking the optical axis onto that ray (``ray_relative``).
    4. *Attention* ``A[i, j]`` = probability that i's head points at j's head: the angle between
       i's gaze and the direction to j, split into its components along the yaw and the pitch
       directions of the gaze, each Gaussian with std σ_yaw resp. σ_pitch·|cos yaw| (σ of the
       model, floored at ``sigma_floor_deg``); "points at" = both components within the
       tolerance ``tolerance_deg`` (eye-in-head freedom) + the angular radius of j's head
       (``head_radius_mm``) seen from i. ``A = Π_axis [Φ((τ − d)/s) − Φ((−τ − d)/s)]``.
       Depth errors (relative std ``depth_noise``) move the direction i → j; their effect on each
       component is added to its variance, so a pair separated mostly in depth is uncertain.
    5. *Matrix* ``M[i, j] = √(A[i, j] · A[j, i])`` (looking at *each other*); *mutual* pairs have
       both ``A`` ≥ ``threshold``.
    6. *Converging attention* ``C[i, j]``: the gaze rays of i and j pass close to a common point X
       in front of both, between ``converge_range[0]`` and ``converge_range[1]`` times their
       distance away from each (an F-formation's shared space); ``C = P_i(X) · P_j(X)`` with the
       same Gaussian model and tolerance ``tolerance_deg`` (X is a point, no head radius). X
       must not lie beyond a person that i or j looks at (that head blocks the view).

``method="paper"`` / ``"paper-v1"`` — the HHP-Net paper's image-plane LAEO.
    ``g_i = (sin(−yaw), −cos(−yaw)·sin(pitch))`` normalised; δ = angle between ``O_j − O_i``
    (keypoint centroids) and ``g_i``, set to 0 inside a cone; ``A = M = max(cos δ, 0)``;
    ``matrix = LAEO = (M + Mᵀ)/2``. Uncertainty ``u = clip(mean(σ_yaw, σ_pitch) / sigma_max_deg,
    0, 1)`` (non-finite σ → 1); "paper": cone 3° if u < 0.4, 6° if u ≤ 0.6, else 9°;
    "paper-v1": fixed 5° cone and ``M[i, j] ·= ((1 − u_i) + (1 − u_j)) / 2``. A face looking
    straight into the camera (|g| ≈ 0 before normalising) looks at nobody. Converging attention
    uses the same 2-D rays (C = 1 when they cross in range, else 0).

Derived outputs (all methods), θ = ``threshold``:

* ``pairs``: every pair i < j of valid people ranked by ``matrix`` (descending);
* ``mutual``: pairs with ``A[i, j] ≥ θ`` and ``A[j, i] ≥ θ``;
* ``targets[i]``: ``argmax_j A[i, j]`` if it is ≥ θ, else None;
* ``groups``: connected components (≥ 2 people) of the graph whose edges are mutual pairs and
  pairs with ``C ≥ θ``; then a person outside every group whose target is in a group joins it
  (a listener attending to a member). A bystander looking elsewhere stays out.
* ``engagement[i] = max_j max(A[i, j], C[i, j])``; ``scene_score`` = mean engagement of the
  valid people (0 with fewer than two): the expected share of people attending to someone or
  sharing a focus with someone.
* ``excluded``: people that are invalid (flag, NaN angles or centroid; for ``hhpnet`` with depth
  also a missing head size); their rows and columns are 0 and they never look anywhere.

Matrices are (N, N) over *all* N people (indices of the input), diagonal 0.
"""

from hhpnet.interaction.analysis import analyze
from hhpnet.interaction.paper import paper_uncertainty
from hhpnet.interaction.params import METHODS, HhpnetParams, PaperParams
from hhpnet.interaction.poses import PoseArrays, from_arrays, scene_from_3d
from hhpnet.interaction.result import Interaction, Pair

__all__ = [
    "METHODS",
    "HhpnetParams",
    "Interaction",
    "Pair",
    "PaperParams",
    "PoseArrays",
    "analyze",
    "from_arrays",
    "paper_uncertainty",
    "scene_from_3d",
]
