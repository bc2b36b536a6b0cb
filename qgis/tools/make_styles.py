"""Writes the provider's layer styles (qgis/rsdetect/styles/*.qml) with QGIS's
own classes, so they are what QGIS itself saves:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis/tools/make_styles.py
"""

import os
import sys

from qgis.core import (
    QgsApplication,
    QgsClassificationRange,
    QgsColorRampShader,
    QgsFillSymbol,
    QgsGraduatedSymbolRenderer,
    QgsPalLayerSettings,
    QgsRasterLayer,
    QgsRendererRange,
    QgsSingleBandPseudoColorRenderer,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsRasterShader,
)
from qgis.PyQt.QtGui import QColor

HERE = os.path.dirname(os.path.abspath(__file__))
STYLES = os.path.join(HERE, "..", "rsdetect", "styles")

app = QgsApplication([], False)
app.initQgis()
os.makedirs(STYLES, exist_ok=True)

# Detections: outlines, no fill, coloured and widened by score (yellow to red),
# in millimetres so they stand out at any scale.
layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=score:double", "detections", "memory")
bands = [(0.0, 0.25, "#ffff33"), (0.25, 0.5, "#ffb000"), (0.5, 0.75, "#ff6000"), (0.75, 1.0001, "#e00000")]
ranges = []
for low, high, colour in bands:
    symbol = QgsFillSymbol.createSimple(
        {"color": "0,0,0,0", "outline_color": colour, "outline_width": "0.6", "outline_width_unit": "MM"}
    )
    ranges.append(QgsRendererRange(QgsClassificationRange(f"{low:.2f} - {min(high, 1):.2f}", low, high), symbol))
layer.setRenderer(QgsGraduatedSymbolRenderer("score", ranges))
layer.saveNamedStyle(os.path.join(STYLES, "detections.qml"))

# Suggested windows: cyan dashed squares, labelled with their rank.
layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=rank:integer", "windows", "memory")
symbol = QgsFillSymbol.createSimple(
    {"color": "0,0,0,0", "outline_color": "#00e5ff", "outline_width": "0.8", "outline_width_unit": "MM",
     "outline_style": "dash"}
)
layer.setRenderer(QgsSingleSymbolRenderer(symbol))
labels = QgsPalLayerSettings()
labels.fieldName = "rank"
text = QgsTextFormat()
text.setColor(QColor("#00e5ff"))
text.setSize(11)
buffer = QgsTextBufferSettings()
buffer.setEnabled(True)
buffer.setColor(QColor("black"))
text.setBuffer(buffer)
labels.setFormat(text)
layer.setLabeling(QgsVectorLayerSimpleLabeling(labels))
layer.setLabelsEnabled(True)
layer.saveNamedStyle(os.path.join(STYLES, "windows.qml"))

# Explanations: 0 (nothing) transparent, then a ramp to yellow, half opaque over the imagery.
raster = QgsRasterLayer(sys.argv[1] if len(sys.argv) > 1 else "", "explanation")
ramp = QgsColorRampShader(0.0, 1.0)
ramp.setColorRampType(QgsColorRampShader.Interpolated)
ramp.setColorRampItemList(
    [
        QgsColorRampShader.ColorRampItem(0.0, QColor(0, 0, 0, 0), "0"),
        QgsColorRampShader.ColorRampItem(0.2, QColor(80, 0, 160, 140), ""),
        QgsColorRampShader.ColorRampItem(0.6, QColor(230, 60, 60, 200), ""),
        QgsColorRampShader.ColorRampItem(1.0, QColor(255, 240, 0, 230), "1"),
    ]
)
shader = QgsRasterShader()
shader.setRasterShaderFunction(ramp)
renderer = QgsSingleBandPseudoColorRenderer(None, 1, shader)
renderer.setClassificationMin(0.0)
renderer.setClassificationMax(1.0)
if raster.isValid():
    raster.setRenderer(renderer)
    raster.saveNamedStyle(os.path.join(STYLES, "explanation.qml"))
else:
    sys.exit("give an .explain.tif (rsdetect explain writes one) to save the explanation style against")
app.exitQgis()
