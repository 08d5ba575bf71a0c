"""The torch side of the data: a set's images as batches on a device (`loading`, `device_decode`)
and 1000-way logits projected onto its classes (`scoring`). Registering the datasets imports
every module of `ribray.data` but not these (a subpackage): listing and checking sets stays free
of torch, and the trials import them where they are used."""
