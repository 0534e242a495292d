"""The scenarios that ship with jiceng, each written only against ``jiceng.sdk`` as a vendor would."""
