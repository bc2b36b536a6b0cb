"""rsdetect suggest: the windows most worth labelling next, as a layer."""

import os

from qgis.core import (
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from .base import RsdetectAlgorithm


class SuggestAlgorithm(RsdetectAlgorithm):
    """Proposes windows to label next."""

    NAME = "suggest"
    DISPLAY = "Suggest windows to label"
    HELP = (
        "Runs the model over unlabelled imagery and proposes the windows where it is least sure, spread out: "
        "labelling those teaches it most. The windows open as a layer, numbered by rank."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_rasters("Imagery")
        self.add_model()
        self.addParameter(
            QgsProcessingParameterNumber("COUNT", "Windows", QgsProcessingParameterNumber.Integer, 10, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "WINDOW", "Window side (pixels at the model's resolution)", QgsProcessingParameterNumber.Integer, 256,
                minValue=1,
            )
        )
        self.add_input_gsd()
        self.add_device()
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", "Suggested windows", "GeoPackage (*.gpkg)")
        )
        self.addOutput(QgsProcessingOutputVectorLayer("WINDOWS", "Suggested windows"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        args = ["suggest", *self.rasters(parameters, context), "--model", self.model(parameters, context)]
        args += ["--count", self.parameterAsInt(parameters, "COUNT", context)]
        args += ["--window", self.parameterAsInt(parameters, "WINDOW", context), "--out", out]
        code, _ = self.rsdetect(args + self.common_args(parameters, context), feedback)
        if code is not None and os.path.exists(out):
            self.load_layer(out, "rsdetect windows to label", "windows.qml", context)
        return {"OUTPUT": out, "WINDOWS": out}
