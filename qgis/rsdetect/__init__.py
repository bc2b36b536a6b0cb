"""rsdetect's QGIS plugin: a Processing provider that runs the rsdetect program."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """The plugin QGIS loads."""
    from .plugin import RsdetectPlugin

    return RsdetectPlugin(iface)
