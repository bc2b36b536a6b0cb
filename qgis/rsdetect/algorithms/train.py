"""rsdetect train: a model from labelled imagery, ready for 'Detect objects'."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorLayer,
)

from .base import RsdetectAlgorithm


class TrainAlgorithm(RsdetectAlgorithm):
    """Trains a model from imagery and labels."""

    NAME = "train"
    DISPLAY = "Train a model"
    HELP = (
        "Trains a model from imagery and a labels layer (points, boxes or polygons, any CRS), starting from "
        "the model chosen (fine-tuning). Background is learned only where the labels say: inside the "
        "labelled-areas layer when given, else around the labels, unless every object of the imagery is "
        "labelled. The model file it writes is what 'Detect objects' takes as its model file."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_rasters("Imagery")
        self.addParameter(
            QgsProcessingParameterVectorLayer("LABELS", "Labels (objects)", [QgsProcessing.TypeVectorAnyGeometry])
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "AREAS",
                "Labelled areas (polygons where every object is labelled)",
                [QgsProcessing.TypeVectorPolygon],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean("ALL_LABELLED", "Every object of the imagery is labelled", False)
        )
        self.add_model("Starting model")
        self.addParameter(
            QgsProcessingParameterNumber(
                "EPOCHS", "Epochs (empty: the config's)", QgsProcessingParameterNumber.Integer, optional=True, minValue=1
            )
        )
        self.add_input_gsd()
        self.add_device()
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", "Model file", "rsdetect model (*.safetensors)")
        )
        self.addOutput(QgsProcessingOutputFile("MODEL_OUT", "The model file"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        args = ["train"]
        for path in self.rasters(parameters, context):
            args += ["--images", path]
        args += ["--labels", self.vector_path(parameters, "LABELS", context, feedback)]
        areas = self.vector_path(parameters, "AREAS", context, feedback)
        if areas:
            args += ["--areas", areas]
        if self.parameterAsBool(parameters, "ALL_LABELLED", context):
            args.append("--all-labelled")
        if parameters.get("EPOCHS") is not None:
            args += ["--epochs", self.parameterAsInt(parameters, "EPOCHS", context)]
        args += ["--init", self.model(parameters, context), "--out", out, *self.common_args(parameters, context)]
        self.rsdetect(args, feedback)
        return {"OUTPUT": out, "MODEL_OUT": out}

    def cancelled_note(self):
        return "cancelled: no model was written"
