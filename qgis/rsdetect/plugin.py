"""Registers the rsdetect Processing provider with QGIS (and with qgis_process,
which calls initProcessing only)."""

from qgis.core import QgsApplication

from .provider import RsdetectProvider


class RsdetectPlugin:
    """The plugin: its only part is the Processing provider."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        self.provider = RsdetectProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
