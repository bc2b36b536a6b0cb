"""What every rsdetect algorithm shares: its group and icon, how raster and
vector inputs become the paths the program reads, the model parameter, and
how results open as styled layers."""

import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterDefinition,
)
from qgis.PyQt.QtGui import QIcon

from .. import runner

HERE = os.path.dirname(os.path.dirname(__file__))
STYLES = os.path.join(HERE, "styles")


class Styled(QgsProcessingLayerPostProcessorInterface):
    """Applies a shipped style (.qml) to a result layer once QGIS loads it."""

    keep = []  # QGIS holds post-processors by pointer: keep them alive.

    def __init__(self, qml):
        super().__init__()
        self.qml = qml
        Styled.keep.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        layer.loadNamedStyle(os.path.join(STYLES, self.qml))
        layer.triggerRepaint()


class RsdetectAlgorithm(QgsProcessingAlgorithm):
    """An rsdetect command as a Processing algorithm: a subclass names it
    (NAME, DISPLAY), helps (HELP), declares its parameters and runs."""

    NAME = ""
    DISPLAY = ""
    HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS's name)
        return self.DISPLAY

    def shortHelpString(self):  # noqa: N802 (QGIS's name)
        return self.HELP

    def group(self):
        return ""

    def groupId(self):  # noqa: N802 (QGIS's name)
        return ""

    def icon(self):
        return QIcon(os.path.join(HERE, "icon.png"))

    def createInstance(self):  # noqa: N802 (QGIS's name)
        return type(self)()

    # Inputs -------------------------------------------------------------

    def add_rasters(self, what):
        """INPUT (raster layers) and INPUT_FOLDER (a folder of rasters), either or both."""
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "INPUT", f"{what} (raster layers)", QgsProcessing.TypeRaster, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "INPUT_FOLDER",
                f"{what} (a folder of rasters)",
                behavior=QgsProcessingParameterFile.Folder,
                optional=True,
            )
        )

    def rasters(self, parameters, context):
        """The raster files and folders the program reads."""
        paths = []
        for layer in self.parameterAsLayerList(parameters, "INPUT", context) or []:
            source = layer.source()
            if not os.path.exists(source):
                raise QgsProcessingException(
                    f"{layer.name()}: rsdetect reads raster files; this layer is {source!r} "
                    "(save it as a GeoTIFF first: Raster > Conversion > Translate)"
                )
            paths.append(source)
        folder = self.parameterAsFile(parameters, "INPUT_FOLDER", context)
        if folder:
            paths.append(folder)
        if not paths:
            raise QgsProcessingException("give raster layers, a folder of rasters, or both")
        return paths

    def vector_path(self, parameters, name, context, feedback):
        """A vector layer (any CRS, any provider) as a file the program reads:
        its own file when OGR reads it, else a GeoPackage written for it."""
        if parameters.get(name) is None:
            return None
        return self.parameterAsCompatibleSourceLayerPath(
            parameters, name, context, ["gpkg", "shp", "geojson", "json", "csv"], "gpkg", feedback
        )

    def add_detections_folder(self):
        """DETECTIONS: the output folder of a detect run."""
        self.addParameter(
            QgsProcessingParameterFile(
                "DETECTIONS", "Detections (a 'Detect objects' output folder)", behavior=QgsProcessingParameterFile.Folder
            )
        )

    def add_model(self, description="Model"):
        """MODEL (a shipped model, by name) and MODEL_FILE (a model file, over it)."""
        self.models = runner.shipped_models()
        self.addParameter(QgsProcessingParameterEnum("MODEL", description, options=self.models, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterFile(
                "MODEL_FILE",
                f"{description} file (over the shipped model above)",
                extension="safetensors",
                optional=True,
            )
        )

    def model(self, parameters, context):
        """The model argument: the file when given, else the shipped model's name."""
        path = self.parameterAsFile(parameters, "MODEL_FILE", context)
        if path:
            return path
        return self.models[self.parameterAsEnum(parameters, "MODEL", context)]

    def add_device(self):
        device = QgsProcessingParameterString("DEVICE", "Device (auto, cpu, cuda, cuda:N)", defaultValue="auto")
        device.setFlags(device.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(device)

    def add_input_gsd(self):
        gsd = QgsProcessingParameterNumber(
            "INPUT_GSD",
            "Metres per pixel of rasters without a CRS (Google Earth exports, screenshots)",
            QgsProcessingParameterNumber.Double,
            optional=True,
            minValue=0.0,
        )
        gsd.setFlags(gsd.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(gsd)

    def common_args(self, parameters, context):
        """--device and --input-gsd as given."""
        args = ["--device", self.parameterAsString(parameters, "DEVICE", context) or "auto"]
        if parameters.get("INPUT_GSD") is not None:
            args += ["--input-gsd", self.parameterAsDouble(parameters, "INPUT_GSD", context)]
        return args

    # Results ------------------------------------------------------------

    def load_layer(self, path, name, qml, context, output="OUTPUT"):
        """Opens `path` in the project when the algorithm ends, styled with `qml`."""
        details = QgsProcessingContext.LayerDetails(name, context.project(), output)
        details.setPostProcessor(Styled(qml))
        context.addLayerToLoadOnCompletion(path, details)

    def rsdetect(self, args, feedback):
        """Runs the program; a cancelled run says what was kept."""
        try:
            return runner.run(args, feedback)
        except runner.Cancelled:
            feedback.pushWarning(self.cancelled_note())
            return None, ""

    def cancelled_note(self):
        return "cancelled: what was finished is kept"
