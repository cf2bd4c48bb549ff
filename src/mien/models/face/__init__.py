"""The face models: detection, mesh and blendshapes, expression nets, and the 48 dimensions.

Stages, one module each: ``detect`` (BlazeFace full-range) → ``mesh`` (FaceMesh V2 landmarks,
Blendshapes V2, head pose) → ``expression`` (7-class nets) → ``dimensions`` (48 emotions, FACS,
descriptions, from a data file); ``hands`` finds hands over the face (FACS hand items);
``identity`` (face descriptors) and ``tracking`` keep face ids across frames; ``model`` ties
them into the batch and streaming face model. ``tfjs`` and ``warp`` are shared helpers.
"""
