"""The rsdetect provider: its algorithms, its icon, and the one setting it
has (where the rsdetect program is)."""

import os

from processing.core.ProcessingConfig import ProcessingConfig, Setting
from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import runner
from .algorithms.detect import DetectAlgorithm
from .algorithms.evaluate import EvaluateAlgorithm
from .algorithms.explain import ExplainAlgorithm
from .algorithms.info import InfoAlgorithm
from .algorithms.suggest import SuggestAlgorithm
from .algorithms.train import TrainAlgorithm

ICON = os.path.join(os.path.dirname(__file__), "icon.png")


class RsdetectProvider(QgsProcessingProvider):
    """rsdetect's algorithms in the Processing toolbox, the modeler and qgis_process."""

    def load(self):
        ProcessingConfig.settingIcons[self.name()] = self.icon()
        ProcessingConfig.addSetting(
            Setting(
                self.name(),
                runner.SETTING,
                "rsdetect program (empty: found on PATH)",
                "",
                valuetype=Setting.FILE,
            )
        )
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        ProcessingConfig.removeSetting(runner.SETTING)

    def loadAlgorithms(self):  # noqa: N802 (QGIS's name)
        for algorithm in (
            DetectAlgorithm(),
            TrainAlgorithm(),
            EvaluateAlgorithm(),
            SuggestAlgorithm(),
            ExplainAlgorithm(),
            InfoAlgorithm(),
        ):
            self.addAlgorithm(algorithm)

    def id(self):
        return "rsdetect"

    def name(self):
        return "rsdetect"

    def longName(self):  # noqa: N802 (QGIS's name)
        return "rsdetect: small objects in imagery"

    def icon(self):
        return QIcon(ICON)
