"""The README's Python section as a script: read a raster with rasterio,
detect in the array, a GeoDataFrame, a plot (out/notebook.png).

    make python && .venv/bin/python examples/notebook.py
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import rasterio
import rasterio.plot

import rsdetect

model = rsdetect.Model("default")  # the shipped urban-tree model, loaded once
print(model.card["classes"], model.card["gsd_m"], "m per pixel")

with rasterio.open("sample_tiles/synthetic/shrubs_512.tif") as src:
    image = src.read()  # (bands, rows, cols), as rasterio reads it
    found = model.detect_array(image, src.transform, src.crs, out_crs="native")
    gdf = found.to_geopandas()
    print(len(found), "detections in", gdf.crs)
    print(gdf[["score", "area_m2", "diameter_m"]].describe().loc[["mean", "min", "max"]].round(2))

    fig, ax = plt.subplots(figsize=(6, 6))
    rasterio.plot.show(src, ax=ax)
    gdf.boundary.plot(ax=ax, color="yellow", linewidth=1)
    gdf.sort_values("score").tail(5).apply(
        lambda r: ax.annotate(f"{r.score:.2f}", r.geometry.centroid.coords[0], color="white", fontsize=8), axis=1
    )
    fig.savefig("out/notebook.png", dpi=100, bbox_inches="tight")

# The same as `rsdetect detect sample_tiles/ --out out/py`, resumable, then scored.
run = rsdetect.detect("sample_tiles/synthetic/", out="out/py", force=True)
report = rsdetect.evaluate(run, "sample_tiles/synthetic/shrubs_512.geojson", match="distance:6")
print({k: round(v, 3) for k, v in report["overall"].items() if k in ("precision", "recall", "f1")})
