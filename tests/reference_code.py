"""Facts of the reference RIB code (FieteLab/ImageNet-RIB) that tests check ribray against."""

# The reference RIB code's ObjectNet mask (lib/dataset/objectnet_dataset.py: `objclasses`): the
# 105 distinct ImageNet indices its name matching produces for the 113 classes, 8 of which reuse
# the previous class's index; and those 8 classes with the index they get there by mistake.
REFERENCE_MASK = [409, 414, 418, 419, 434, 440, 455, 457, 462, 463, 470, 473, 487, 499, 504, 507, 508, 531,
                  533, 539, 543, 545, 549, 550, 560, 567, 578, 587, 588, 589, 610, 618, 619, 620, 623, 626,
                  629, 630, 632, 644, 647, 651, 658, 659, 664, 671, 673, 677, 679, 694, 695, 696, 700, 703,
                  720, 721, 725, 728, 729, 731, 732, 737, 740, 742, 752, 761, 769, 770, 772, 773, 774, 783,
                  790, 792, 797, 804, 806, 809, 811, 813, 828, 834, 837, 841, 846, 849, 850, 851, 859, 868,
                  879, 882, 883, 893, 898, 902, 907, 909, 923, 930, 950, 951, 954, 968, 999]
REUSED = {"weight_scale": 732, "chair": 508, "trash_bin": 531, "swimming_trunks": 909, "skirt": 588,
          "jeans": 850, "binder_closed": 463, "iron_for_clothes": 882}
