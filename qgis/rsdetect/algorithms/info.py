"""rsdetect info: what rsdetect sees in rasters (size, bands, CRS, ground
sample distance, nodata, layout), and what to fix before detecting."""

from qgis.core import QgsProcessingOutputString

from .base import RsdetectAlgorithm


class InfoAlgorithm(RsdetectAlgorithm):
    """Describes rasters as rsdetect reads them."""

    NAME = "info"
    DISPLAY = "Describe rasters"
    HELP = (
        "Describes rasters as rsdetect reads them: size, bands, CRS, geotransform, metres per pixel, nodata "
        "and tiling, with warnings (no georeferencing, not tiled) and their fixes. The description is in the "
        "log, and as JSON in the INFO output."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS's name)
        self.add_rasters("Rasters")
        self.addOutput(QgsProcessingOutputString("INFO", "Description (JSON)"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS's name)
        rasters = self.rasters(parameters, context)
        _, table = self.rsdetect(["info", *rasters], feedback)
        for line in table.splitlines():
            feedback.pushInfo(line)
        _, described = self.rsdetect(["info", "--json", *rasters], feedback)
        return {"INFO": described}
