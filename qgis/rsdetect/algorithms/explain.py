"""rsdetect explain: the pixels chosen detections' scores rest on, as rasters
with a colour ramp."""

import glob
import os

from qgis.core import (
    QgsProcessingOutputFolder,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)

from .base import RsdetectAlgorithm


class ExplainAlgorithm(RsdetectAlgorithm):
    """Explains the best detections of a detect run."""

    NAME = "explain"
    DISPLAY = "Explain detections"
    HELP = (
        "For the best detections of each raster of a 'Detect objects' output folder, maps the pixels their "
        "scores rest on (Grad-CAM, or the score's gradient): a GeoTIFF per raster on the raster's own grid, "
        "opened with a colour ramp over the imagery, and a PNG per detection."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_detections_folder()
        self.addParameter(
            QgsProcessingParameterNumber(
                "TOP", "Best detections of each raster", QgsProcessingParameterNumber.Integer, 3, minValue=1
            )
        )
        self.add_device()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputFolder("FOLDER", "Explanations"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        args = ["explain", "--detections", self.parameterAsFile(parameters, "DETECTIONS", context), "--out", out]
        args += ["--top", self.parameterAsInt(parameters, "TOP", context)]
        args += ["--device", self.parameterAsString(parameters, "DEVICE", context) or "auto"]
        code, _ = self.rsdetect(args, feedback)
        if code is not None:
            for i, tif in enumerate(sorted(glob.glob(os.path.join(out, "*.explain.tif")))):
                name = os.path.basename(tif)[: -len(".explain.tif")]
                self.load_layer(tif, f"rsdetect explanation {name}", "explanation.qml", context, f"EXPLANATION_{i}")
        return {"FOLDER": out}
