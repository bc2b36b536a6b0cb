"""rsdetect detect: objects found in rasters, opened as a layer styled by score."""

import json
import os

from qgis.core import (
    QgsProcessingOutputFolder,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)

from .base import RsdetectAlgorithm

MODES = ["the model's own", "dense", "sliding", "candidates"]


class DetectAlgorithm(RsdetectAlgorithm):
    """Finds objects in rasters with a model."""

    NAME = "detect"
    DISPLAY = "Detect objects"
    HELP = (
        "Finds objects (trees, shrubs) in rasters with a model: a shipped one, or one trained with "
        "'Train a model'. Each detection is an outline with its score, area and diameter; the layer "
        "opens styled by score. The output folder is rsdetect's: one GeoJSON per raster, "
        "detections.geojson for all, run.json with what was done. Cancelling keeps the finished "
        "rasters; running again with the same folder resumes. Rasters without georeferencing give "
        "detections where QGIS shows the image (x = column, y = -row); give their metres per pixel "
        "for sizes in metres. A warning says when the imagery is unlike the model's."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_rasters("Imagery")
        self.add_model()
        self.addParameter(
            QgsProcessingParameterNumber(
                "SCORE_THRESHOLD",
                "Keep detections scoring at least (the shipped models' scores are probabilities; empty: the model's threshold)",
                QgsProcessingParameterNumber.Double,
                optional=True,
                minValue=0.0,
                maxValue=1.0,
            )
        )
        self.addParameter(QgsProcessingParameterEnum("MODE", "Candidates", options=MODES, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterBoolean("TTA", "Score each tile in its 8 flips and rotations (8x slower)", False)
        )
        self.add_input_gsd()
        self.add_device()
        self.addParameter(QgsProcessingParameterBoolean("FORCE", "Redo rasters already done in the folder", False))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputVectorLayer("OUTPUT", "Detections"))
        self.addOutput(QgsProcessingOutputNumber("DETECTIONS", "Number of detections"))
        self.addOutput(QgsProcessingOutputFolder("FOLDER", "rsdetect's output folder"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        args = ["detect", *self.rasters(parameters, context), "--model", self.model(parameters, context)]
        args += ["--out", out, *self.common_args(parameters, context)]
        if parameters.get("SCORE_THRESHOLD") is not None:
            args += ["--score-threshold", self.parameterAsDouble(parameters, "SCORE_THRESHOLD", context)]
        mode = self.parameterAsEnum(parameters, "MODE", context)
        if mode:
            args += ["--mode", MODES[mode]]
        if self.parameterAsBool(parameters, "TTA", context):
            args.append("--tta")
        if self.parameterAsBool(parameters, "FORCE", context):
            args.append("--force")
        code, _ = self.rsdetect(args, feedback)
        merged = os.path.join(out, "detections.geojson")
        count = 0
        if os.path.exists(merged):
            with open(merged) as f:
                count = len(json.load(f)["features"])
            if code is not None:
                self.load_layer(merged, "rsdetect detections", "detections.qml", context)
        if code == 2:
            feedback.reportError("some rasters failed (see above); the others' detections are in the layer")
        return {"OUTPUT": merged, "DETECTIONS": count, "FOLDER": out}

    def cancelled_note(self):
        return "cancelled: the finished rasters are kept in the output folder; run again with it to resume"
