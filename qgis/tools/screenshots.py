"""The README's screenshots, taken in a real QGIS: the detect dialog, and
detections over the imagery. Run under Xvfb with the plugin enabled in the
profile (make qgis-screenshots does all of it):

    qgis --nologo --noversioncheck --profiles-path PROFILE --code qgis/tools/screenshots.py
"""

import os

import processing
from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface

ROOT = os.environ["RSDETECT_ROOT"]
SHOTS = os.path.join(ROOT, "qgis", "screenshots")
SCENE = os.path.join(ROOT, "sample_tiles", "synthetic", "shrubs_512.tif")
os.makedirs(SHOTS, exist_ok=True)


def results():
    """The scene, rsdetect:detect on it, its detections loaded and styled."""
    iface.mainWindow().resize(1100, 760)
    layer = QgsRasterLayer(SCENE, "shrubs_512")
    QgsProject.instance().addMapLayer(layer)
    processing.runAndLoadResults(
        "rsdetect:detect", {"INPUT": [SCENE], "OUTPUT_FOLDER": os.path.join(ROOT, "out", "qgis-screenshot")}
    )
    iface.mapCanvas().setExtent(layer.extent())
    QTimer.singleShot(3000, shoot_results)


def shoot_results():
    iface.mapCanvas().refreshAllLayers()
    QTimer.singleShot(3000, lambda: (iface.mainWindow().grab().save(os.path.join(SHOTS, "results.png")), dialog()))


def dialog():
    """The detect algorithm's dialog, as the toolbox opens it."""
    d = processing.createAlgorithmDialog("rsdetect:detect")
    d.resize(900, 700)
    d.show()
    QTimer.singleShot(2000, lambda: (d.grab().save(os.path.join(SHOTS, "detect-dialog.png")), d.close(), leave()))


def leave():
    # QGIS 3.22 can crash while tearing down after a --code script; the
    # screenshots are saved, so leave without the teardown.
    os._exit(0)


QTimer.singleShot(3000, results)
