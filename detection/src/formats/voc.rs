//! Pascal VOC annotations (`.xml`): boxes in pixels of the image the file
//! names, as labelImg and DeepForest write them.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One annotation file: the image and its objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "annotation")]
pub struct Annotation {
    /// The image's file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// The labelled objects.
    #[serde(default, rename = "object")]
    pub objects: Vec<Object>,
}

/// One labelled object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Its class.
    #[serde(default)]
    pub name: String,
    /// Its box.
    pub bndbox: BndBox,
}

/// A box in pixels: left, top, right and bottom edges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BndBox {
    /// Left edge.
    pub xmin: f64,
    /// Top edge.
    pub ymin: f64,
    /// Right edge.
    pub xmax: f64,
    /// Bottom edge.
    pub ymax: f64,
}

impl Annotation {
    /// Reads an annotation file; the error says what is wrong.
    pub fn read(path: &Path) -> Result<Annotation, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        // serde does not check the root element's name; VOC's is <annotation>.
        if !text.contains("<annotation") {
            return Err("not a Pascal VOC annotation (no <annotation> element)".into());
        }
        quick_xml::de::from_str(&text).map_err(|e| format!("not a Pascal VOC annotation ({e})"))
    }

    /// The file's text.
    pub fn to_xml(&self) -> Result<String, String> {
        quick_xml::se::to_string(self).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labelimg_files_and_round_trips() {
        let text = "<annotation><folder>data</folder><filename>a.png</filename><size><width>9</width></size>\
            <object><name>Tree</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>5</xmax><ymax>7.5</ymax></bndbox></object>\
            <object><name>Tree</name><bndbox><xmin>3</xmin><ymin>3</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object></annotation>";
        let a: Annotation = quick_xml::de::from_str(text).unwrap();
        assert_eq!(a.filename.as_deref(), Some("a.png"));
        assert_eq!(a.objects.len(), 2);
        assert_eq!(a.objects[0].bndbox, BndBox { xmin: 1.0, ymin: 2.0, xmax: 5.0, ymax: 7.5 });
        let back: Annotation = quick_xml::de::from_str(&a.to_xml().unwrap()).unwrap();
        assert_eq!(back, a);
    }
}
