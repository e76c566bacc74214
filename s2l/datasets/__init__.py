"""The data sets s2l generates or reads, one module per data set.

Embedded TFDS builders that generate their data offline and deterministically
(`synthetic_notes`, `soundfont_notes` with its SoundFont reader `soundfont`,
`synthetic_video`, `synthetic_images` with its shapes in `drawing`, and what
they share in `embedded`); a TFDS builder for something-something v2 from its
release (`something_something`); and a user's folder of audio with a CSV
manifest (`audio_folder`). `s2l.data.sources` registers them by name; the
pipeline stages that turn their examples into patches live in `s2l.data`.
"""
