"""Type stubs of rsdetect: the stages of the command line as Python calls."""

import os
import pathlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = str | os.PathLike[str]
Paths = PathLike | Sequence[PathLike]
#: ``progress=``: ``True`` for a tqdm bar, or a function called with
#: ``(done, total, what)`` as tiles (detect) or steps (train) finish.
Progress = bool | Callable[[int, int, str], Any] | None
Feature = dict[str, Any]

class RsdetectError(Exception):
    """Every error rsdetect raises; its message says what failed and what to do."""

class InputError(RsdetectError):
    """A raster, label file, list or output folder that cannot be used."""

class ModelError(RsdetectError):
    """A model that cannot be found, loaded or run where asked."""

class ConfigError(RsdetectError):
    """An option or config file rsdetect does not take."""

class RsdetectWarning(UserWarning):
    """What the command line prints as a warning (imagery unlike the model's, no georeferencing, ...)."""

class Detections:
    """Detections: GeoJSON features (dicts), best first within each raster, with the run's facts."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Feature]: ...
    def __getitem__(self, i: int) -> Feature: ...
    @property
    def __geo_interface__(self) -> dict[str, Any]:
        """The FeatureCollection (what shapely, geopandas and QGIS read)."""
    @property
    def crs(self) -> str | None:
        """``"EPSG:4326"`` unless detected with ``crs="native"``; ``None`` in pixel coordinates."""
    @property
    def path(self) -> pathlib.Path | None:
        """The output folder, ``None`` when nothing was written (an array's detections)."""
    @property
    def failed(self) -> list[str]:
        """Inputs that failed, each with why and what to do."""
    @property
    def run(self) -> dict[str, Any] | None:
        """run.json: model, device, options, per-raster timings and notes."""
    def to_geojson(self, path: PathLike) -> None:
        """Writes the GeoJSON file, byte for byte the command line's."""
    def to_geopandas(self) -> Any:
        """A ``geopandas.GeoDataFrame``, one row per detection, with the CRS."""

class Model:
    """A model loaded once: a file, or a shipped model's name (:func:`models` lists them)."""

    def __init__(
        self,
        name_or_path: PathLike | None = None,
        device: str = "auto",
        *,
        config: PathLike | None = None,
        **options: Any,
    ) -> None:
        """Loads the model onto ``device`` ("auto", "cpu", "cuda", "cuda:N"); ``options`` are the
        detect config's keys (``mode``, ``tile``, ``score_threshold``, ``tta``, ...)."""
    def detect_array(
        self,
        array: npt.ArrayLike,
        transform: Any = None,
        crs: Any = None,
        gsd: float | None = None,
        *,
        nodata: float | None = None,
        name: str = "array",
        out_crs: Literal["wgs84", "native"] = "wgs84",
        progress: Progress = None,
    ) -> Detections:
        """Finds the objects in an image array: (rows, cols), (bands, rows, cols) as rasterio reads it,
        or (rows, cols, bands) as PIL gives it. ``transform`` (rasterio's Affine or GDAL's six numbers)
        and ``crs`` (a string or a rasterio/pyproj CRS) place it; without them give ``gsd`` (metres per
        pixel) and the detections are in pixel coordinates (x = column, y = -row)."""
    def heatmap(self, array: npt.ArrayLike, gsd: float | None = None) -> npt.NDArray[np.float32]:
        """A heatmap network's score at every pixel (rows x cols), the array taken at the model's
        ground sample distance (``card["gsd_m"]``): the network's raw scores, whose peaks are the
        detections (a detection's ``score`` is its peak's through the model's map to probability,
        ``card["score_map"]``, where the model has one)."""
    @property
    def card(self) -> dict[str, Any]:
        """The model's facts: network, bands, gsd_m, classes, score threshold, training record, path."""

def detect(
    inputs: Paths,
    model: PathLike | None = None,
    out: PathLike | None = None,
    *,
    list: Paths | None = None,
    shard: tuple[int, int] | None = None,
    config: PathLike | None = None,
    device: str = "auto",
    crs: Literal["wgs84", "native"] = "wgs84",
    formats: Sequence[Literal["gpkg", "shp"]] | None = None,
    input_gsd: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    force: bool = False,
    quicklook: bool = False,
    errors: Literal["raise", "warn"] = "raise",
    progress: Progress = None,
    verbose: bool = False,
    **options: Any,
) -> Detections:
    """Finds objects in rasters as ``rsdetect detect`` does. ``out``: the folder the command line
    writes (rerun to resume; ``force`` redoes finished rasters); without it, a temporary one kept
    as long as the result. ``options``: the detect config's keys. An input that fails raises
    :class:`InputError` after the others are done (``errors="warn"``: a warning each)."""

def train(
    images: Paths,
    labels: Paths,
    areas: Paths | None = None,
    out: PathLike | None = None,
    init: PathLike | None = None,
    *,
    list: Paths | None = None,
    val_images: Paths | None = None,
    val_list: Paths | None = None,
    all_labelled: bool = False,
    arch: str | None = None,
    config: PathLike | None = None,
    epochs: int | None = None,
    bands: Sequence[int] | None = None,
    device: str = "auto",
    scratch: bool = False,
    freeze_backbone: bool = False,
    resume: PathLike | None = None,
    input_gsd: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    gsd: float | None = None,
    calibrate: bool = True,
    progress: Progress = None,
    verbose: bool = True,
) -> Model:
    """Trains a model from labelled rasters as ``rsdetect train`` does, writes it to ``out``
    and returns it loaded. Background is learned only in ``areas``, else around the labels
    unless ``all_labelled``."""

def evaluate(
    detections: Detections | PathLike,
    labels: Paths,
    match: str = "distance:6",
    *,
    score_threshold: float | None = None,
    sweep: bool = False,
    out: PathLike | None = None,
) -> dict[str, Any]:
    """Scores detections against labels as ``rsdetect evaluate`` does: the report's fields
    (``overall``: precision, recall, F1, ...; ``per_input``; ``calibration``)."""

def suggest(
    inputs: Paths,
    out: PathLike,
    model: PathLike | None = None,
    *,
    count: int = 10,
    window: int = 256,
    device: str = "auto",
    input_gsd: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """The windows worth labelling next (where the model is least sure), as a GeoPackage at ``out``."""

def explain(
    detections: Detections | PathLike,
    out: PathLike,
    model: PathLike | None = None,
    *,
    ids: Sequence[int] | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    top: int | None = None,
    bottom: int | None = None,
    all: bool = False,
    device: str = "auto",
    progress: Progress = None,
) -> dict[str, Any]:
    """Maps of the pixels the chosen detections' scores rest on (GeoTIFF and PNG in ``out``)."""

def models() -> list[dict[str, Any]]:
    """The shipped models: name, path, summary, class."""
