"""The QGIS provider in a real QGIS: qgis_process runs its algorithms as a
user's script would, and an in-process QGIS cancels one as the Processing
dialog does. Run with Debian's python3 (python3-qgis):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 -m unittest discover -s qgis/tests -v
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "rsdetect")
SCENE = os.path.join(ROOT, "sample_tiles", "synthetic", "shrubs_512.tif")
SCENE_LABELS = os.path.join(ROOT, "sample_tiles", "synthetic", "shrubs_512.geojson")
QGIS_PROCESS = shutil.which("qgis_process.bin")


def profile(folder):
    """A QGIS settings folder with the plugin installed and enabled."""
    plugins = os.path.join(folder, "profiles", "default", "python", "plugins")
    os.makedirs(plugins)
    os.symlink(os.path.join(ROOT, "qgis", "rsdetect"), os.path.join(plugins, "rsdetect"))
    os.makedirs(os.path.join(folder, "profiles", "default", "QGIS"))
    with open(os.path.join(folder, "profiles", "default", "QGIS", "QGIS3.ini"), "w") as f:
        f.write("[PythonPlugins]\nrsdetect=true\n")
    return folder


@unittest.skipIf(QGIS_PROCESS is None, "QGIS is not installed (apt-get install qgis python3-qgis)")
class QgisProcess(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            QGIS_CUSTOM_CONFIG_PATH=profile(os.path.join(cls.tmp, "qgis")),
            RSDETECT_BINARY=BIN,
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def qgis_process(self, algorithm, env=None, **parameters):
        args = [QGIS_PROCESS, "run", f"rsdetect:{algorithm}", "--"]
        args += [f"{k}={v}" for k, v in parameters.items()]
        return subprocess.run(args, cwd=ROOT, env=env or self.env, capture_output=True, text=True)

    def test_detect_writes_what_the_cli_writes(self):
        cli = os.path.join(self.tmp, "cli")
        done = subprocess.run([BIN, "detect", "sample_tiles", "--out", cli], cwd=ROOT, capture_output=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        out = os.path.join(self.tmp, "qgis-detect")
        run = self.qgis_process("detect", INPUT_FOLDER="sample_tiles", OUTPUT_FOLDER=out)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        for name in ("detections.geojson", "OSBS_029.geojson", "shrubs_512.geojson"):
            with open(os.path.join(out, name), "rb") as a, open(os.path.join(cli, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        self.assertIn("DETECTIONS:\t42", run.stdout)
        # The applicability warning reaches QGIS's log.
        self.assertIn("resampled 6.0x coarser", run.stdout + run.stderr)

    def test_train_from_a_labels_layer_and_an_areas_layer_then_detect(self):
        # The labels in Web Mercator, the area (the scene's top half) in lon/lat: any CRS.
        labels = os.path.join(self.tmp, "labels.gpkg")
        subprocess.run(["ogr2ogr", "-t_srs", "EPSG:3857", labels, SCENE_LABELS], check=True)
        top = os.path.join(self.tmp, "top.geojson")
        with open(top, "w") as f:
            ring = [[580000, 4080000], [580256, 4080000], [580256, 4079872], [580000, 4079872], [580000, 4080000]]
            json.dump({"type": "FeatureCollection",
                       "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32630"}},
                       "features": [{"type": "Feature", "properties": {},
                                     "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, f)
        areas = os.path.join(self.tmp, "areas.gpkg")
        subprocess.run(["ogr2ogr", "-t_srs", "EPSG:4326", areas, top], check=True)
        model = os.path.join(self.tmp, "shrubs.safetensors")
        run = self.qgis_process(
            "train", INPUT=SCENE, LABELS=labels, AREAS=areas, EPOCHS=15, DEVICE="cpu", OUTPUT=model
        )
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertTrue(os.path.exists(model))
        out = os.path.join(self.tmp, "found")
        run = self.qgis_process("detect", INPUT=SCENE, MODEL_FILE=model, OUTPUT_FOLDER=out)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        scored = self.qgis_process("evaluate", DETECTIONS=out, LABELS=SCENE_LABELS, MATCH="distance:2")
        self.assertEqual(scored.returncode, 0, scored.stdout + scored.stderr)
        f1 = float(next(line for line in scored.stdout.splitlines() if line.startswith("F1:")).split("\t")[1])
        self.assertGreaterEqual(f1, 0.9, scored.stdout)

    def test_info_suggest_and_explain_write_their_files(self):
        run = self.qgis_process("info", INPUT=SCENE)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn('"width": 512', run.stdout)
        windows = os.path.join(self.tmp, "windows.gpkg")
        run = self.qgis_process("suggest", INPUT=SCENE, COUNT=3, OUTPUT=windows)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("to label next", run.stdout + run.stderr)
        found = os.path.join(self.tmp, "to-explain")
        self.assertEqual(self.qgis_process("detect", INPUT=SCENE, OUTPUT_FOLDER=found).returncode, 0)
        why = os.path.join(self.tmp, "why")
        run = self.qgis_process("explain", DETECTIONS=found, TOP=2, OUTPUT_FOLDER=why)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(glob.glob(os.path.join(why, "*.explain.tif")), [os.path.join(why, "shrubs_512.explain.tif")])

    def test_a_missing_program_says_how_to_fix_it(self):
        env = dict(self.env, PATH="/usr/bin:/bin")
        env.pop("RSDETECT_BINARY")
        run = self.qgis_process("detect", env=env, INPUT=SCENE, OUTPUT_FOLDER=os.path.join(self.tmp, "none"))
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("rsdetect program not found", run.stdout + run.stderr)
        self.assertIn("Processing > Options > Providers > rsdetect", run.stdout + run.stderr)


@unittest.skipIf(QGIS_PROCESS is None, "QGIS is not installed (apt-get install qgis python3-qgis)")
class InQgis(unittest.TestCase):
    """The provider inside QGIS, as the Processing dialog runs it."""

    @classmethod
    def setUpClass(cls):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["RSDETECT_BINARY"] = BIN
        from qgis.core import QgsApplication

        cls.app = QgsApplication([], False)
        cls.app.initQgis()
        sys.path.append("/usr/share/qgis/python/plugins")
        sys.path.insert(0, os.path.join(ROOT, "qgis"))
        from processing.core.Processing import Processing

        Processing.initialize()
        from rsdetect.provider import RsdetectProvider

        cls.provider = RsdetectProvider()
        QgsApplication.processingRegistry().addProvider(cls.provider)

    def test_a_cancelled_run_leaves_nothing_partial_and_resumes(self):
        import processing
        from qgis.core import QgsProcessingFeedback

        class CancelAtFirstProgress(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.warnings = []
                self.progressChanged.connect(lambda _: self.cancel())

            def pushWarning(self, text):  # noqa: N802 (QGIS's name)
                self.warnings.append(text)
                super().pushWarning(text)

        out = tempfile.mkdtemp()
        feedback = CancelAtFirstProgress()
        processing.run("rsdetect:detect", {"INPUT_FOLDER": os.path.join(ROOT, "sample_tiles"), "OUTPUT_FOLDER": out},
                       feedback=feedback)
        self.assertTrue(any("run again with it to resume" in w for w in feedback.warnings), feedback.warnings)
        written = sorted(os.listdir(out))
        # The raster in hand was finished; the other was not started; nothing half-written.
        self.assertEqual(len([n for n in written if n.endswith(".geojson")]), 2, written)
        self.assertFalse([n for n in written if "tmp" in n], written)
        with open(os.path.join(out, "run.json")) as f:
            self.assertEqual(json.load(f)["interrupted"], "after 1 of 2 rasters")
        result = processing.run("rsdetect:detect", {"INPUT_FOLDER": os.path.join(ROOT, "sample_tiles"),
                                                     "OUTPUT_FOLDER": out}, feedback=QgsProcessingFeedback())
        with open(os.path.join(out, "run.json")) as f:
            statuses = [i["status"] for i in json.load(f)["inputs"]]
        self.assertEqual(sorted(statuses), ["done", "skipped"])
        self.assertEqual(result["DETECTIONS"], 42)

    def test_the_modeler_chains_detect_into_evaluate(self):
        import processing
        from qgis.core import (
            QgsProcessingModelAlgorithm,
            QgsProcessingModelChildAlgorithm,
            QgsProcessingModelChildParameterSource as Source,
        )

        out = tempfile.mkdtemp()
        model = QgsProcessingModelAlgorithm("detect then evaluate", "rsdetect tests")
        detect = QgsProcessingModelChildAlgorithm("rsdetect:detect")
        detect.setChildId("detect")
        detect.addParameterSources("INPUT", [Source.fromStaticValue([SCENE])])
        detect.addParameterSources("OUTPUT_FOLDER", [Source.fromStaticValue(os.path.join(out, "found"))])
        model.addChildAlgorithm(detect)
        evaluate = QgsProcessingModelChildAlgorithm("rsdetect:evaluate")
        evaluate.setChildId("evaluate")
        evaluate.addParameterSources("DETECTIONS", [Source.fromChildOutput("detect", "FOLDER")])
        evaluate.addParameterSources("LABELS", [Source.fromStaticValue(SCENE_LABELS)])
        evaluate.addParameterSources("MATCH", [Source.fromStaticValue("distance:2")])
        evaluate.addParameterSources("OUTPUT", [Source.fromStaticValue(os.path.join(out, "report.json"))])
        model.addChildAlgorithm(evaluate)
        processing.run(model, {})
        with open(os.path.join(out, "report.json")) as f:
            self.assertEqual(json.load(f)["overall"]["f1"], 1.0)

    def test_detections_of_an_image_without_georeferencing_lie_on_it_as_qgis_shows_it(self):
        import processing
        from qgis.core import QgsRasterLayer, QgsVectorLayer

        tmp = tempfile.mkdtemp()
        png = os.path.join(tmp, "screenshot.png")
        subprocess.run(["gdal_translate", "-q", "-of", "PNG", SCENE, png], check=True)
        os.remove(png + ".aux.xml")
        image = QgsRasterLayer(png, "screenshot")
        self.assertTrue(image.isValid())
        result = processing.run("rsdetect:detect", {"INPUT": [png], "INPUT_GSD": 0.5, "OUTPUT_FOLDER": os.path.join(tmp, "found")})
        found = QgsVectorLayer(result["OUTPUT"], "found")
        self.assertEqual(found.featureCount(), 38)
        self.assertTrue(image.extent().contains(found.extent()), (image.extent().toString(), found.extent().toString()))
        # Each detection on its shrub: the centre pixel is darker than the sand.
        provider = image.dataProvider()
        for feature in found.getFeatures():
            c = feature.geometry().centroid().asPoint()
            value, ok = provider.sample(c, 1)
            self.assertTrue(ok and value < 150, (c.toString(), value))

    def test_the_algorithms_have_help_and_take_a_model_from_the_list(self):
        from qgis.core import QgsApplication

        names = sorted(a.name() for a in self.provider.algorithms())
        self.assertEqual(names, ["detect", "evaluate", "explain", "info", "suggest", "train"])
        for algorithm in self.provider.algorithms():
            self.assertTrue(algorithm.shortHelpString(), algorithm.name())
        detect = QgsApplication.processingRegistry().algorithmById("rsdetect:detect")
        self.assertEqual(detect.parameterDefinition("MODEL").options(), ["default", "rgbn"])


if __name__ == "__main__":
    unittest.main()
