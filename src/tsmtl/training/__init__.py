"""The shared training core: device, seeding, the MTL batch schedule, one training loop."""
