"""rsdetect evaluate: precision, recall and F1 of detections against labels."""

import json
import os
import tempfile

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from .base import RsdetectAlgorithm


class EvaluateAlgorithm(RsdetectAlgorithm):
    """Scores a detect run against labels."""

    NAME = "evaluate"
    DISPLAY = "Evaluate detections"
    HELP = (
        "Scores the detections of a 'Detect objects' output folder against a labels layer, one to one: "
        "precision, recall, F1 per raster and overall. Matching: distance:METRES (centres within that "
        "distance), iou:T (boxes overlapping at least T) or center-in-label. The report (JSON, with a "
        "precision-recall plot beside it) is written where asked."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_detections_folder()
        self.addParameter(
            QgsProcessingParameterVectorLayer("LABELS", "Labels", [QgsProcessing.TypeVectorAnyGeometry])
        )
        self.addParameter(QgsProcessingParameterString("MATCH", "Matching", defaultValue="distance:6"))
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", "Report", "JSON (*.json)", optional=True)
        )
        for key, name in (("PRECISION", "Precision"), ("RECALL", "Recall"), ("F1", "F1")):
            self.addOutput(QgsProcessingOutputNumber(key, name))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        report = self.parameterAsFileOutput(parameters, "OUTPUT", context) or os.path.join(
            tempfile.mkdtemp(), "report.json"
        )
        args = ["evaluate", "--detections", self.parameterAsFile(parameters, "DETECTIONS", context)]
        args += ["--labels", self.vector_path(parameters, "LABELS", context, feedback)]
        args += ["--match", self.parameterAsString(parameters, "MATCH", context), "--out", report]
        _, table = self.rsdetect(args, feedback)
        for line in table.splitlines():
            feedback.pushInfo(line)
        with open(report) as f:
            overall = json.load(f)["overall"]
        return {"OUTPUT": report, "PRECISION": overall["precision"], "RECALL": overall["recall"], "F1": overall["f1"]}
