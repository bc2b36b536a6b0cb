//! Detections as GeoJSON features (detect's `NAME.geojson` and
//! `detections.geojson`) and the OGR fields of its GeoPackage and Shapefile:
//! one definition of what a detection carries, written and read through it.
//! Keys are in sorted order, as the files have always been written.

use serde::{Deserialize, Serialize};

/// What a detection carries besides its polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionProperties {
    /// The outline's area, square metres (outlined detections of rasters
    /// whose scale is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// Class name.
    pub class: String,
    /// The diameter of the circle of the outline's area, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diameter_m: Option<f64>,
    /// Footprint in the raster's pixels (column, row from the top-left
    /// corner): x0, y0, x1, y1, whatever the frame of the geometry.
    #[serde(alias = "bbox")]
    pub pixel_bbox: [f64; 4],
    /// An outlined detection's centre in the raster's pixels (its box is
    /// not centred on it).
    #[serde(default, alias = "centre", skip_serializing_if = "Option::is_none")]
    pub pixel_centre: Option<[f64; 2]>,
    /// Classifier score.
    pub score: f64,
    /// The score's standard deviation over flips and rotations (a name a
    /// Shapefile's 10 characters hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_sd: Option<f64>,
    /// The raster it came from.
    pub source: String,
}

/// A polygon: its exterior ring, closed and counterclockwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolygonGeometry {
    /// The rings; the first (and only) one is the exterior.
    pub coordinates: Vec<Vec<[f64; 2]>>,
    /// "Polygon".
    #[serde(rename = "type")]
    pub kind: String,
}

/// One detection as a GeoJSON feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionFeature {
    /// Its polygon.
    pub geometry: PolygonGeometry,
    /// Its properties.
    pub properties: DetectionProperties,
    /// "Feature".
    #[serde(rename = "type")]
    pub kind: String,
}

impl DetectionFeature {
    /// A feature of `ring` (closed) and `properties`.
    pub fn new(ring: Vec<[f64; 2]>, properties: DetectionProperties) -> DetectionFeature {
        DetectionFeature {
            geometry: PolygonGeometry { coordinates: vec![ring], kind: "Polygon".into() },
            properties,
            kind: "Feature".into(),
        }
    }

    /// Its exterior ring (empty for a feature without one).
    pub fn ring(&self) -> &[[f64; 2]] {
        self.geometry.coordinates.first().map_or(&[], Vec::as_slice)
    }
}

/// A named CRS member (`urn:ogc:def:crs:EPSG::32617`) or a WKT one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrsMember {
    /// `name` or `wkt`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `name` or `wkt`, as the kind says.
    pub properties: CrsProperties,
}

/// The CRS member's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrsProperties {
    /// The CRS's URN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The CRS as WKT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wkt: Option<String>,
}

/// A detections file as read: its CRS members and features.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DetectionCollection {
    /// The frame of a raster without a CRS, when it is in one.
    #[serde(default, rename = "rsdetect:coordinates")]
    pub coordinates: Option<String>,
    /// The CRS member of a file in a raster's own CRS.
    #[serde(default)]
    pub crs: Option<CrsMember>,
    /// The detections.
    pub features: Vec<DetectionFeature>,
}

/// The type of an OGR field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A floating-point number.
    Real,
    /// A whole number.
    Integer,
    /// Text.
    Text,
}

/// A field's value in one feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A number.
    Real(f64),
    /// A whole number.
    Integer(i32),
    /// Text.
    Text(&'a str),
    /// Unset.
    Null,
}

/// The OGR fields of a detection, in order: the properties, with the
/// pixel box in four fields (a Shapefile holds no arrays, and at most 10
/// characters a name); the pixel centre stays in GeoJSON only.
pub const OGR_FIELDS: [(&str, FieldKind); 10] = [
    ("score", FieldKind::Real),
    ("class", FieldKind::Text),
    ("source", FieldKind::Text),
    ("pixel_x0", FieldKind::Real),
    ("pixel_y0", FieldKind::Real),
    ("pixel_x1", FieldKind::Real),
    ("pixel_y1", FieldKind::Real),
    ("area_m2", FieldKind::Real),
    ("diameter_m", FieldKind::Real),
    ("score_sd", FieldKind::Real),
];

impl DetectionProperties {
    /// The values of [`OGR_FIELDS`], in their order.
    pub fn ogr_values(&self) -> [FieldValue<'_>; 10] {
        let real = |v: Option<f64>| v.map_or(FieldValue::Null, FieldValue::Real);
        let [x0, y0, x1, y1] = self.pixel_bbox;
        [
            FieldValue::Real(self.score),
            FieldValue::Text(&self.class),
            FieldValue::Text(&self.source),
            FieldValue::Real(x0),
            FieldValue::Real(y0),
            FieldValue::Real(x1),
            FieldValue::Real(y1),
            real(self.area_m2),
            real(self.diameter_m),
            real(self.score_sd),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_is_written_with_sorted_keys_and_reads_back() {
        let f = DetectionFeature::new(
            vec![[1.0, 2.0], [1.5, 2.0], [1.0, 2.0]],
            DetectionProperties {
                area_m2: Some(12.5),
                class: "shrub".into(),
                diameter_m: Some(3.99),
                pixel_bbox: [1.0, 2.0, 3.0, 4.0],
                pixel_centre: None,
                score: 0.75,
                score_sd: None,
                source: "a.tif".into(),
            },
        );
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(
            text,
            r#"{"geometry":{"coordinates":[[[1.0,2.0],[1.5,2.0],[1.0,2.0]]],"type":"Polygon"},"properties":{"area_m2":12.5,"class":"shrub","diameter_m":3.99,"pixel_bbox":[1.0,2.0,3.0,4.0],"score":0.75,"source":"a.tif"},"type":"Feature"}"#
        );
        assert_eq!(serde_json::from_str::<DetectionFeature>(&text).unwrap(), f);
        // Files written before the pixel properties had their names.
        let old = text.replace("pixel_bbox", "bbox");
        assert_eq!(serde_json::from_str::<DetectionFeature>(&old).unwrap(), f);
    }
}
