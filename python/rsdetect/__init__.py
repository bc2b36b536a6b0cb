"""rsdetect: find small objects (shrubs, trees) in large georeferenced imagery.

The same library the ``rsdetect`` command line runs, as Python calls::

    import rsdetect
    found = rsdetect.detect("tiles/", out="out/run1")        # like `rsdetect detect`
    gdf = found.to_geopandas()                                 # a GeoDataFrame with its CRS

    model = rsdetect.Model("default")                          # loaded once
    with rasterio.open("scene.tif") as src:
        found = model.detect_array(src.read(), src.transform, src.crs)

Errors are :class:`RsdetectError` subclasses (:class:`InputError`,
:class:`ModelError`, :class:`ConfigError`) carrying the command line's
messages and fixes; what it prints as warnings comes as
:class:`RsdetectWarning`. Work runs with the GIL released, and Ctrl-C stops
a run as it stops the command line (finished rasters are kept, and the same
call resumes).
"""

from rsdetect._native import (
    ConfigError,
    Detections,
    InputError,
    Model,
    ModelError,
    RsdetectError,
    RsdetectWarning,
    __version__,
    detect,
    evaluate,
    explain,
    models,
    suggest,
    train,
)

__all__ = [
    "ConfigError",
    "Detections",
    "InputError",
    "Model",
    "ModelError",
    "RsdetectError",
    "RsdetectWarning",
    "__version__",
    "detect",
    "evaluate",
    "explain",
    "models",
    "suggest",
    "train",
]
